-- Notifications: channels that receive events (a signed webhook, an SMS number, an e-mail
-- address), each with what it wants (event kinds, a least alarm severity) and what its owner
-- may see (role and community at creation); the address and the signing secret sealed by the
-- vault. And the outbox: one row per event and channel, written in the transaction that made
-- the event, retried with backoff until delivered or given up (dead). (channel, idempotency
-- key) is unique, so an event is queued for a channel once.
-- Keep in step with migrations/postgres/0020_notifications.sql.

CREATE TABLE notify_channels (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    channel       TEXT NOT NULL,
    address_enc   BLOB NOT NULL,
    secret_enc    BLOB,
    kinds         TEXT NOT NULL,
    min_severity  TEXT,
    role          TEXT NOT NULL,
    community_id  INTEGER REFERENCES communities(id),
    active        INTEGER NOT NULL DEFAULT 1,
    created_by    TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE notifications (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id       INTEGER NOT NULL REFERENCES notify_channels(id),
    event            TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    payload          TEXT NOT NULL,
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    last_status      INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    delivered_at     INTEGER,
    UNIQUE (channel_id, idempotency_key)
);
CREATE INDEX notifications_due ON notifications(state, next_attempt_at);
CREATE INDEX notifications_channel ON notifications(channel_id, id);
