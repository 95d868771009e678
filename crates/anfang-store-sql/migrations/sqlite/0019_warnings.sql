-- Early warning (研判预警): one row per warning a rule raised, with who it is for (audience),
-- what it is about (subject: `stranger:7`, `person:12`, `house:3`, `plate:鲁C12345`,
-- `device:9`, `watch_entry:4`), the events that are its evidence (JSON), and its handling;
-- a watch-list hit's warning points at the hit. Each community's rule thresholds (JSON).
-- Keep in step with migrations/postgres/0019_warnings.sql.

CREATE TABLE warnings (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id  INTEGER REFERENCES communities(id),
    kind          TEXT NOT NULL,
    audience      TEXT NOT NULL,
    subject       TEXT NOT NULL,
    title         TEXT NOT NULL,
    score         REAL,
    evidence      TEXT NOT NULL,
    state         TEXT NOT NULL,
    raised_at     INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    handled_by    TEXT,
    handled_at    INTEGER,
    note          TEXT,
    watch_hit_id  INTEGER REFERENCES watch_hits(id)
);
CREATE INDEX warnings_subject ON warnings(kind, subject, raised_at);
CREATE INDEX warnings_list ON warnings(audience, state, raised_at);

CREATE TABLE warning_rules (
    community_id  INTEGER PRIMARY KEY REFERENCES communities(id),
    rules         TEXT NOT NULL,
    updated_at    INTEGER NOT NULL,
    updated_by    TEXT NOT NULL
);
