-- Capture records from GA/T 1400 cameras (faces, persons, motor and non-motor vehicles). A
-- record is one object as uploaded; vendors reuse record ids, so identity is (device, record
-- id, content hash): the same upload twice is one record, a reused id with other content is
-- another. Images live sealed in the image store under image_keys (a JSON array).
-- Keep in step with migrations/postgres/0013_capture_records.sql.

CREATE TABLE capture_records (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id  INTEGER REFERENCES communities(id),
    device_id     INTEGER NOT NULL REFERENCES devices(id),
    kind          TEXT NOT NULL,
    record_id     TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    shot_at       INTEGER NOT NULL,
    plate         TEXT,
    attributes    TEXT NOT NULL,
    image_keys    TEXT NOT NULL,
    received_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX capture_records_identity ON capture_records(device_id, record_id, content_hash);
CREATE INDEX capture_records_time ON capture_records(community_id, shot_at);
CREATE INDEX capture_records_plate ON capture_records(plate, shot_at);
