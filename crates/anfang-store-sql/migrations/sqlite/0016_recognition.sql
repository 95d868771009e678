-- Face recognition: the template (embedding, sealed by the vault) of each enrolled photo, the
-- result of recognising each face capture, and strangers — stable pseudo-identities for faces
-- that match no resident, so "a stranger seen N times" can be counted. Everything biometric
-- carries an expiry that the retention job enforces; watch-list entries keep the template of
-- their picture, and hits keep distance and margin and stay "to be confirmed" until a person
-- confirms them.
-- Keep in step with migrations/postgres/0016_recognition.sql.

ALTER TABLE face_photos ADD COLUMN template_enc BLOB;
ALTER TABLE face_photos ADD COLUMN template_model TEXT;

ALTER TABLE watch_entries ADD COLUMN template_enc BLOB;
ALTER TABLE watch_entries ADD COLUMN template_model TEXT;

ALTER TABLE watch_hits ADD COLUMN distance REAL;
ALTER TABLE watch_hits ADD COLUMN margin REAL;
ALTER TABLE watch_hits ADD COLUMN state TEXT NOT NULL DEFAULT 'to_confirm';

CREATE TABLE strangers (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id  INTEGER REFERENCES communities(id),
    template_enc  BLOB NOT NULL,
    model         TEXT NOT NULL,
    sightings     INTEGER NOT NULL,
    first_seen    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX strangers_community ON strangers(community_id);

CREATE TABLE capture_faces (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    capture_record_id  INTEGER NOT NULL UNIQUE REFERENCES capture_records(id),
    community_id       INTEGER REFERENCES communities(id),
    device_id          INTEGER NOT NULL REFERENCES devices(id),
    shot_at            INTEGER NOT NULL,
    outcome            TEXT NOT NULL,
    person_id          INTEGER REFERENCES persons(id),
    stranger_id        INTEGER REFERENCES strangers(id),
    distance           REAL,
    margin             REAL,
    template_enc       BLOB,
    model              TEXT,
    recognised_at      INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL
);
CREATE INDEX capture_faces_stranger ON capture_faces(stranger_id, shot_at);
CREATE INDEX capture_faces_person ON capture_faces(person_id, shot_at);
CREATE INDEX capture_faces_expiry ON capture_faces(expires_at);
