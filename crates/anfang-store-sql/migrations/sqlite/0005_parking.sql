-- Vehicle gates: temporary parking sessions for cars that are neither registered nor invited,
-- their payments, and each community's tariff. Keep in step with migrations/postgres/0005_parking.sql.

CREATE TABLE parking_tariffs (
    community_id INTEGER PRIMARY KEY REFERENCES communities(id),
    tariff_json  TEXT NOT NULL,
    updated_at   INTEGER NOT NULL
);

-- status: open (inside), fee_due (tried to leave, unpaid), closed (left).
CREATE TABLE parking_sessions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id    INTEGER NOT NULL REFERENCES communities(id),
    plate           TEXT NOT NULL,
    entry_device_id INTEGER NOT NULL REFERENCES devices(id),
    entered_at      INTEGER NOT NULL,
    exit_device_id  INTEGER REFERENCES devices(id),
    exited_at       INTEGER,
    fee_cents       INTEGER,
    paid_cents      INTEGER NOT NULL,
    status          TEXT NOT NULL
);
CREATE INDEX parking_sessions_open ON parking_sessions(community_id, status);

CREATE TABLE parking_payments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id   INTEGER NOT NULL REFERENCES parking_sessions(id),
    amount_cents INTEGER NOT NULL,
    method       TEXT NOT NULL,
    recorded_by  TEXT NOT NULL,
    paid_at      INTEGER NOT NULL,
    refunded_at  INTEGER
);
CREATE INDEX parking_payments_session ON parking_payments(session_id);
