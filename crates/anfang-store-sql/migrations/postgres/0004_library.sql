-- Terminal libraries: every change that can alter who a community's terminals let in bumps the
-- community's library version (one row per community, updated in the changing transaction, so
-- versions are gapless and ordered by commit) and records which person changed. A terminal
-- reports the version it applied; it is sent exactly the changes after it.
-- (PostgreSQL version.) Keep in step with migrations/sqlite/0004_library.sql.

CREATE TABLE library_versions (
    community_id BIGINT PRIMARY KEY REFERENCES communities(id),
    version      BIGINT NOT NULL
);

CREATE TABLE library_changes (
    community_id BIGINT NOT NULL REFERENCES communities(id),
    version      BIGINT NOT NULL,
    person_id    BIGINT NOT NULL REFERENCES persons(id),
    at           BIGINT NOT NULL,
    PRIMARY KEY (community_id, version)
);

-- Terminals match cards and PINs locally, so the platform must be able to send the values:
-- they are kept encrypted (AES-256-GCM) beside the blind index used for lookups.
ALTER TABLE credentials ADD COLUMN value_enc BYTEA;
