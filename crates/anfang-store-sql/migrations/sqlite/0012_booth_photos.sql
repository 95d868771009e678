-- The booth's pictures of a visitor: the photo from the ID card's chip and the live snapshot,
-- sealed in the image store under these keys.
-- Keep in step with migrations/postgres/0012_booth_photos.sql.

ALTER TABLE booth_calls ADD COLUMN card_photo_key TEXT;
ALTER TABLE booth_calls ADD COLUMN snapshot_key TEXT;
