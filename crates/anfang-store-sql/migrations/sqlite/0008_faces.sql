-- Enrolled face photos: the image itself lives encrypted in the image store under image_key;
-- the row keeps its digest (the version terminals compare) and shape. At most one active
-- photo per person; withdrawing consent removes it (and the file).
-- Keep in step with migrations/postgres/0008_faces.sql.

CREATE TABLE face_photos (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id    INTEGER NOT NULL REFERENCES persons(id),
    image_key    TEXT NOT NULL UNIQUE,
    sha256       TEXT NOT NULL,
    format       TEXT NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    size_bytes   INTEGER NOT NULL,
    uploaded_by  TEXT NOT NULL,
    uploaded_at  INTEGER NOT NULL,
    removed_at   INTEGER
);
CREATE INDEX face_photos_person ON face_photos(person_id, removed_at);
