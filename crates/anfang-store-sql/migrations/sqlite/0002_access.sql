-- Access control: consents, credentials, face enrollments, idempotent device events and access
-- records. Keep in step with migrations/postgres/0002_access.sql.

ALTER TABLE devices ADD COLUMN last_seen_at INTEGER;
ALTER TABLE devices ADD COLUMN firmware TEXT;
ALTER TABLE devices ADD COLUMN library_version INTEGER;

-- A recorded, revocable consent (PIPL; the 2025 face-recognition measures). Without an active
-- face_access consent a person has no face credential.
CREATE TABLE consents (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id     INTEGER NOT NULL REFERENCES persons(id),
    purpose       TEXT NOT NULL,
    given_by      TEXT NOT NULL,
    guardian_name TEXT,
    recorded_by   TEXT NOT NULL,
    given_at      INTEGER NOT NULL,
    revoked_at    INTEGER
);
CREATE INDEX consents_person ON consents(person_id);

-- Non-face credentials (card, PIN) stored by keyed blind index only: the platform never needs
-- the clear value back, only to recognise it.
CREATE TABLE credentials (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id   INTEGER NOT NULL REFERENCES persons(id),
    kind        TEXT NOT NULL,
    value_index TEXT NOT NULL,
    valid_from  INTEGER,
    valid_until INTEGER,
    revoked_at  INTEGER,
    created_at  INTEGER NOT NULL,
    UNIQUE (kind, value_index)
);
CREATE INDEX credentials_person ON credentials(person_id);

-- Face photos enrolled under a consent; the image lives in the object store under image_key.
CREATE TABLE face_enrollments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id  INTEGER NOT NULL REFERENCES persons(id),
    consent_id INTEGER NOT NULL REFERENCES consents(id),
    image_key  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX face_enrollments_person ON face_enrollments(person_id);

-- Every device event by (device, event id): a repeated id returns the first answer.
CREATE TABLE device_events (
    device_id   INTEGER NOT NULL REFERENCES devices(id),
    event_id    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    at          INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    body        TEXT NOT NULL,
    answer      TEXT NOT NULL,
    PRIMARY KEY (device_id, event_id)
);
CREATE INDEX device_events_received ON device_events(received_at);

-- One row per access decision: who, with what, where, when, outcome and reason.
CREATE TABLE access_records (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id    INTEGER NOT NULL REFERENCES communities(id),
    device_id       INTEGER NOT NULL REFERENCES devices(id),
    event_id        TEXT NOT NULL,
    person_id       INTEGER REFERENCES persons(id),
    credential_kind TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    reason          TEXT NOT NULL,
    decided_locally INTEGER NOT NULL,
    snapshot_key    TEXT,
    at              INTEGER NOT NULL
);
CREATE INDEX access_records_community_at ON access_records(community_id, at);
CREATE INDEX access_records_person ON access_records(person_id);
