-- The door deny list (禁止通行名单): a person on it passes no door or gate of the community,
-- whatever else they hold; entries are removed, never deleted, so the history stays.
-- Staff duty schedules: when a staff member's house relation opens entrances.
-- Keep in step with migrations/postgres/0007_deny_schedule.sql.

CREATE TABLE deny_list (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id INTEGER NOT NULL REFERENCES communities(id),
    person_id    INTEGER NOT NULL REFERENCES persons(id),
    reason       TEXT NOT NULL,
    added_by     TEXT NOT NULL,
    added_at     INTEGER NOT NULL,
    removed_at   INTEGER,
    removed_by   TEXT
);
CREATE INDEX deny_list_person ON deny_list(person_id, removed_at);
CREATE INDEX deny_list_community ON deny_list(community_id, removed_at);

-- e.g. "1-5 07:00-19:00" (Monday to Friday) or "1-7 19:00-07:00" (overnight); NULL: any time.
ALTER TABLE person_houses ADD COLUMN schedule TEXT;
