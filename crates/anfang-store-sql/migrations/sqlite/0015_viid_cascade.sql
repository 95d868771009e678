-- What superior platforms ask of us over GA/T 1400: subscriptions (Subscribes), answered by
-- notifications to their receive address, and dispositions (布控), which become entries of
-- the police watch-list, hidden from property staff; a hit is recorded and reported back.
-- Each keeps the object as received (body, JSON) beside the columns it is looked up by.
-- Keep in step with migrations/postgres/0015_viid_cascade.sql.

CREATE TABLE viid_subscriptions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    target        TEXT NOT NULL,
    subscribe_id  TEXT NOT NULL,
    status        INTEGER NOT NULL,
    begin_at      INTEGER NOT NULL,
    end_at        INTEGER NOT NULL,
    body          TEXT NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX viid_subscriptions_identity ON viid_subscriptions(target, subscribe_id);

CREATE TABLE watch_entries (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    source        TEXT NOT NULL,
    external_id   TEXT NOT NULL,
    category      TEXT NOT NULL,
    plate         TEXT,
    title         TEXT NOT NULL,
    status        TEXT NOT NULL,
    begin_at      INTEGER NOT NULL,
    end_at        INTEGER NOT NULL,
    body          TEXT NOT NULL,
    image_keys    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX watch_entries_identity ON watch_entries(source, external_id);
CREATE INDEX watch_entries_plate ON watch_entries(plate, status);

CREATE TABLE watch_hits (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id           INTEGER NOT NULL REFERENCES watch_entries(id),
    capture_record_id  INTEGER REFERENCES capture_records(id),
    community_id       INTEGER REFERENCES communities(id),
    at                 INTEGER NOT NULL
);
CREATE INDEX watch_hits_entry ON watch_hits(entry_id, at);
