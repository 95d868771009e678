-- The credential kinds a door device offers (`face,card,qr,pin`), as it reports them in its
-- heartbeat or as its installer configured them; NULL: not known. A door whose devices offer
-- only face is flagged (the 2025 face-recognition measures require another way in).
-- (PostgreSQL version.) Keep in step with migrations/sqlite/0011_device_accepts.sql.

ALTER TABLE devices ADD COLUMN accepts TEXT;
