-- Segment keys in byte order (COLLATE "C"), as in SQLite and as the users
-- list's keys (0003): the search's prefix range (key >= text AND key <
-- text || U+10FFFF) and its name order then agree with SQLite whatever the
-- database's collation; under a linguistic one (en_US) the range is wrong.
-- The unique index also carries `id`, so the search's bounded "contains"
-- walk is an index-only scan. SQLite needs nothing: its keys compare
-- bytewise and every index carries the rowid.
DROP INDEX segments_by_key;
ALTER TABLE segments ALTER COLUMN name_key TYPE TEXT COLLATE "C";
CREATE UNIQUE INDEX segments_by_key ON segments (app_id, name_key) INCLUDE (id);
