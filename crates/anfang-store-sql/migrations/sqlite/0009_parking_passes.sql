-- Monthly (and longer) parking passes (月卡): a plate that opens a community's gates within its
-- dates without a temporary-parking session. Revoked passes stay as history.
-- Keep in step with migrations/postgres/0009_parking_passes.sql.

CREATE TABLE parking_passes (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    plate_number  TEXT NOT NULL,
    holder_name   TEXT NOT NULL,
    valid_from    INTEGER NOT NULL,
    valid_until   INTEGER NOT NULL,
    fee_cents     INTEGER NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER
);
CREATE INDEX parking_passes_plate ON parking_passes(community_id, plate_number);
