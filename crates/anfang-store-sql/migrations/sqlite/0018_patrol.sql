-- Electronic patrol (电子巡查): routes with their ordered checkpoints (patrol tags registered as
-- devices, JSON [[device id, minutes after the start it is due], …]), round times, window,
-- tolerance and assigned guard; every scan as it arrived; and one row per judged round (at most
-- one per route and start), with per-checkpoint outcomes in `detail`.
-- Keep in step with migrations/postgres/0018_patrol.sql.

CREATE TABLE patrol_routes (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id       INTEGER NOT NULL REFERENCES communities(id),
    name               TEXT NOT NULL,
    checkpoints        TEXT NOT NULL,
    times              TEXT NOT NULL,
    guard_user_id      INTEGER REFERENCES users(id),
    window_minutes     INTEGER NOT NULL,
    tolerance_minutes  INTEGER NOT NULL,
    active             INTEGER NOT NULL DEFAULT 1,
    created_at         INTEGER NOT NULL,
    created_by         TEXT NOT NULL,
    UNIQUE (community_id, name)
);

CREATE TABLE patrol_scans (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id    INTEGER NOT NULL REFERENCES communities(id),
    checkpoint_id   INTEGER REFERENCES devices(id),
    checkpoint_ref  TEXT NOT NULL,
    reader_id       INTEGER NOT NULL REFERENCES devices(id),
    guard_ref       TEXT NOT NULL,
    guard_user_id   INTEGER REFERENCES users(id),
    at              INTEGER NOT NULL,
    event_id        TEXT NOT NULL
);
CREATE INDEX patrol_scans_community_at ON patrol_scans(community_id, at);

CREATE TABLE patrol_rounds (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    route_id       INTEGER NOT NULL REFERENCES patrol_routes(id),
    community_id   INTEGER NOT NULL REFERENCES communities(id),
    guard_user_id  INTEGER REFERENCES users(id),
    start_at       INTEGER NOT NULL,
    end_at         INTEGER NOT NULL,
    status         TEXT NOT NULL,
    on_time        INTEGER NOT NULL,
    late           INTEGER NOT NULL,
    missed         INTEGER NOT NULL,
    out_of_order   INTEGER NOT NULL,
    detail         TEXT NOT NULL,
    evaluated_at   INTEGER NOT NULL,
    UNIQUE (route_id, start_at)
);
CREATE INDEX patrol_rounds_community_start ON patrol_rounds(community_id, start_at);
