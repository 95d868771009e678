-- The district programme: each community's build project with its stage history, the
-- districts' settings as data (targets, the award formula, assessment weights, acceptance
-- rules), the funding ledger, awards (以奖代补), acceptances with their sign-offs, contractors
-- and maintenance tickets. And what the networking rate is measured from: the device each
-- queued upward item reports (so a police acknowledgement counts for that device), and
-- indexes to read business data per device and time.
-- Keep in step with migrations/postgres/0021_programme.sql.

CREATE TABLE build_projects (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id  INTEGER NOT NULL UNIQUE REFERENCES communities(id),
    funding_mode  TEXT NOT NULL,
    planned_year  INTEGER NOT NULL,
    stage         TEXT NOT NULL,
    stage_at      INTEGER NOT NULL,
    contractor    TEXT,
    created_at    INTEGER NOT NULL
);

CREATE TABLE project_stages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  INTEGER NOT NULL REFERENCES build_projects(id),
    stage       TEXT NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    note        TEXT NOT NULL
);
CREATE INDEX project_stages_project ON project_stages(project_id, at);

CREATE TABLE programme_settings (
    district_code  TEXT NOT NULL,
    name           TEXT NOT NULL,
    body           TEXT NOT NULL,
    updated_at     INTEGER NOT NULL,
    updated_by     TEXT NOT NULL,
    PRIMARY KEY (district_code, name)
);

CREATE TABLE funding_entries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  INTEGER NOT NULL REFERENCES build_projects(id),
    source      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    amount_fen  INTEGER NOT NULL,
    note        TEXT NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL
);
CREATE INDEX funding_entries_project ON funding_entries(project_id, id);

CREATE TABLE awards (
    project_id   INTEGER PRIMARY KEY REFERENCES build_projects(id),
    amount_fen   INTEGER NOT NULL,
    detail       TEXT NOT NULL,
    status       TEXT NOT NULL,
    computed_at  INTEGER NOT NULL,
    approved_at  INTEGER,
    approved_by  TEXT,
    paid_at      INTEGER,
    paid_by      TEXT,
    voucher      TEXT
);

CREATE TABLE acceptances (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id    INTEGER NOT NULL REFERENCES build_projects(id),
    status        TEXT NOT NULL,
    requested_at  INTEGER NOT NULL,
    requested_by  TEXT NOT NULL,
    checklist     TEXT NOT NULL,
    items         TEXT NOT NULL,
    decided_at    INTEGER
);
CREATE INDEX acceptances_project ON acceptances(project_id, id);

CREATE TABLE acceptance_signoffs (
    acceptance_id  INTEGER NOT NULL REFERENCES acceptances(id),
    party          TEXT NOT NULL,
    decision       TEXT NOT NULL,
    actor          TEXT NOT NULL,
    at             INTEGER NOT NULL,
    note           TEXT NOT NULL,
    PRIMARY KEY (acceptance_id, party)
);

CREATE TABLE contractors (
    name        TEXT PRIMARY KEY,
    sla_hours   INTEGER NOT NULL,
    contact     TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE maintenance_tickets (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id     INTEGER NOT NULL REFERENCES devices(id),
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    contractor    TEXT NOT NULL,
    reason        TEXT NOT NULL,
    opened_at     INTEGER NOT NULL,
    due_at        INTEGER NOT NULL,
    resolved_at   INTEGER,
    resolved_by   TEXT,
    note          TEXT NOT NULL
);
CREATE UNIQUE INDEX maintenance_tickets_one_open ON maintenance_tickets(device_id) WHERE resolved_at IS NULL;
CREATE INDEX maintenance_tickets_community ON maintenance_tickets(community_id, opened_at);

ALTER TABLE cascade_queue ADD COLUMN device_id INTEGER;
CREATE INDEX cascade_queue_device ON cascade_queue(target, delivered_at, device_id);
CREATE INDEX access_records_device_at ON access_records(device_id, at);
CREATE INDEX access_records_at ON access_records(at);
CREATE INDEX capture_records_received ON capture_records(received_at);
CREATE INDEX parking_sessions_entered ON parking_sessions(entered_at);
CREATE INDEX patrol_scans_at ON patrol_scans(at);
CREATE INDEX booth_calls_created ON booth_calls(created_at);
