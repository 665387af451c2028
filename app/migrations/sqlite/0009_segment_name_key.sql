-- Segment names are matched and kept unique by a key computed in Rust
-- (trimmed, Unicode lower case), the same in both databases: SQLite's
-- lower() folds ASCII only. The index also serves the modal's search
-- (prefix range, then a scan of the keys for names containing the text).
ALTER TABLE segments ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE segments SET name_key = lower(trim(name));
DROP INDEX segments_name_ci;
CREATE UNIQUE INDEX segments_by_key ON segments (app_id, name_key);
