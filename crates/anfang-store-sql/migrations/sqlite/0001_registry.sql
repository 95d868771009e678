-- Anfang schema v1 for SQLite. Keep in step with migrations/postgres/0001_registry.sql:
-- same tables, columns and constraints; only types and identity columns differ.
-- Times are milliseconds since the Unix epoch (UTC); dates are 'YYYY-MM-DD' text.

CREATE TABLE streets (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    district_code TEXT NOT NULL,
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL
);

CREATE TABLE committees (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    street_id INTEGER NOT NULL REFERENCES streets(id),
    code      TEXT NOT NULL UNIQUE,
    name      TEXT NOT NULL,
    kind      TEXT NOT NULL
);

CREATE TABLE communities (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    committee_id  INTEGER NOT NULL REFERENCES committees(id),
    street_id     INTEGER NOT NULL REFERENCES streets(id),
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    category      TEXT NOT NULL,
    property_type TEXT NOT NULL,
    address       TEXT NOT NULL,
    site_width    REAL NOT NULL,
    site_height   REAL NOT NULL,
    police_area   TEXT
);
CREATE INDEX communities_street ON communities(street_id);

CREATE TABLE grids (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id INTEGER NOT NULL REFERENCES communities(id),
    code         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL
);

CREATE TABLE buildings (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id INTEGER NOT NULL REFERENCES communities(id),
    number       TEXT NOT NULL,
    name         TEXT NOT NULL,
    floors       INTEGER NOT NULL,
    x            REAL NOT NULL,
    y            REAL NOT NULL,
    UNIQUE (community_id, number)
);

CREATE TABLE units (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    building_id INTEGER NOT NULL REFERENCES buildings(id),
    number      TEXT NOT NULL,
    UNIQUE (building_id, number)
);

CREATE TABLE houses (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_id      INTEGER NOT NULL REFERENCES units(id),
    building_id  INTEGER NOT NULL REFERENCES buildings(id),
    community_id INTEGER NOT NULL REFERENCES communities(id),
    number       TEXT NOT NULL,
    floor        INTEGER NOT NULL,
    area_m2      REAL NOT NULL,
    use_kind     TEXT NOT NULL,
    address      TEXT NOT NULL,
    UNIQUE (unit_id, number)
);
CREATE INDEX houses_community ON houses(community_id);

CREATE TABLE places (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id INTEGER NOT NULL REFERENCES communities(id),
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    x            REAL NOT NULL,
    y            REAL NOT NULL,
    attended     INTEGER NOT NULL,
    unit_id      INTEGER REFERENCES units(id)
);
CREATE INDEX places_community ON places(community_id);

CREATE TABLE organisations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id INTEGER NOT NULL REFERENCES communities(id),
    house_id     INTEGER REFERENCES houses(id),
    name         TEXT NOT NULL,
    credit_code  TEXT,
    kind         TEXT NOT NULL
);

CREATE TABLE persons (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id    INTEGER NOT NULL REFERENCES communities(id),
    name            TEXT NOT NULL,
    gender          TEXT NOT NULL,
    id_type         TEXT NOT NULL,
    id_number_enc   BLOB NOT NULL,
    id_number_index TEXT NOT NULL UNIQUE,
    phone_enc       BLOB,
    phone_index     TEXT,
    population_type TEXT NOT NULL,
    tags_json       TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX persons_community ON persons(community_id);
CREATE INDEX persons_phone ON persons(phone_index);

CREATE TABLE person_houses (
    person_id   INTEGER NOT NULL REFERENCES persons(id),
    house_id    INTEGER NOT NULL REFERENCES houses(id),
    role        TEXT NOT NULL,
    lease_start TEXT,
    lease_end   TEXT,
    PRIMARY KEY (person_id, house_id)
);
CREATE INDEX person_houses_house ON person_houses(house_id);

CREATE TABLE vehicles (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id    INTEGER NOT NULL REFERENCES communities(id),
    plate_number    TEXT NOT NULL UNIQUE,
    plate_color     TEXT NOT NULL,
    owner_person_id INTEGER REFERENCES persons(id),
    parking_space   TEXT
);

CREATE TABLE devices (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    code         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    protocol     TEXT NOT NULL,
    community_id INTEGER REFERENCES communities(id),
    place_id     INTEGER REFERENCES places(id),
    x            REAL,
    y            REAL,
    install_date TEXT,
    contractor   TEXT,
    secret_enc   BLOB NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX devices_community ON devices(community_id);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  INTEGER,
    created_at    INTEGER NOT NULL
);

CREATE TABLE user_scopes (
    user_id INTEGER NOT NULL REFERENCES users(id),
    kind    TEXT NOT NULL,
    target  TEXT NOT NULL,
    PRIMARY KEY (user_id, kind, target)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

-- The audit chain's head: one row, moved in the same transaction as each append, so that
-- concurrent appends serialize on it and a rolled-back append leaves no gap.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);

CREATE TABLE import_reports (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    content    BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
