-- Visitor passes: invited by a resident or the property office for a time window; the pass is
-- a random token shown as a QR code and stored only as a keyed blind index.
-- Keep in step with migrations/postgres/0003_visitors.sql.

CREATE TABLE visitor_passes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id INTEGER NOT NULL REFERENCES communities(id),
    house_id     INTEGER NOT NULL REFERENCES houses(id),
    name         TEXT NOT NULL,
    phone_enc    BLOB,
    plate_number TEXT,
    valid_from   INTEGER NOT NULL,
    valid_until  INTEGER NOT NULL,
    token_index  TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);
CREATE INDEX visitor_passes_community ON visitor_passes(community_id, valid_until);
