-- The house a booth call is for, when the visitor's house reference names one of the
-- community's houses: its residents can then see and answer the call from the resident page.
-- (PostgreSQL version.) Keep in step with migrations/sqlite/0010_booth_house.sql.

ALTER TABLE booth_calls ADD COLUMN house_id BIGINT REFERENCES houses(id);
CREATE INDEX booth_calls_house ON booth_calls(house_id, status);
