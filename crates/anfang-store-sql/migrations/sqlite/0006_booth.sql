-- The smart booth (智能岗亭): a visitor's one-key call rings on the duty guard's console; the
-- answer opens or refuses the gate. Commands for devices wait in an outbox until a transport
-- delivers them (MQTT at once, HTTP push with the device's next ack).
-- Keep in step with migrations/postgres/0006_booth.sql.

-- status: ringing, accepted, denied, timed_out (escalated), abandoned.
CREATE TABLE booth_calls (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id   INTEGER NOT NULL REFERENCES communities(id),
    device_id      INTEGER NOT NULL REFERENCES devices(id),
    event_id       TEXT NOT NULL,
    visitor_name   TEXT NOT NULL,
    id_number_enc  BLOB,
    house_ref      TEXT,
    status         TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    answered_at    INTEGER,
    answered_by    TEXT,
    note           TEXT
);
CREATE INDEX booth_calls_status ON booth_calls(community_id, status);

CREATE TABLE device_commands (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id    INTEGER NOT NULL REFERENCES devices(id),
    command      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    delivered_at INTEGER
);
CREATE INDEX device_commands_pending ON device_commands(device_id, delivered_at);
