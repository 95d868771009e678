-- The alarm centre: one row per alarm (repeats of an open alarm from the same device and kind
-- are merged into it and counted), its lifecycle with who and when, the escalation level the SLA
-- job has reached, and the nearest cameras at the time it was raised; every action on an alarm
-- is kept in alarm_actions.
-- Keep in step with migrations/postgres/0017_alarms.sql.

CREATE TABLE alarms (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id     INTEGER REFERENCES communities(id),
    device_id        INTEGER REFERENCES devices(id),
    place_id         INTEGER REFERENCES places(id),
    kind             TEXT NOT NULL,
    severity         TEXT NOT NULL,
    state            TEXT NOT NULL,
    zone             TEXT,
    source           TEXT NOT NULL,
    source_ref       TEXT,
    raised_at        INTEGER NOT NULL,
    last_at          INTEGER NOT NULL,
    repeats          INTEGER NOT NULL DEFAULT 0,
    level            INTEGER NOT NULL DEFAULT 0,
    escalated_at     INTEGER,
    acknowledged_at  INTEGER,
    acknowledged_by  TEXT,
    dispatched_to    TEXT,
    closed_at        INTEGER,
    closed_by        TEXT,
    cameras          TEXT NOT NULL DEFAULT '[]',
    snapshot_key     TEXT
);
CREATE INDEX alarms_community_raised ON alarms(community_id, raised_at);
CREATE INDEX alarms_state ON alarms(state);
CREATE INDEX alarms_device_kind ON alarms(device_id, kind);

CREATE TABLE alarm_actions (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    alarm_id  INTEGER NOT NULL REFERENCES alarms(id),
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    note      TEXT
);
CREATE INDEX alarm_actions_alarm ON alarm_actions(alarm_id, at);
