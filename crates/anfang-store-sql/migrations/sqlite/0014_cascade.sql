-- Store-and-forward toward superior platforms (the police VIID, the big-data centre): one row
-- per thing to deliver to one target, written in the same transaction as what it reports, so
-- nothing acknowledged by our server is lost on the way up; delivered in id order.
-- Keep in step with migrations/postgres/0014_cascade.sql.

CREATE TABLE cascade_queue (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    target        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    delivered_at  INTEGER,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT
);
CREATE INDEX cascade_queue_pending ON cascade_queue(target, delivered_at, id);
