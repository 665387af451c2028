-- The property filter's and suggestions' index holds a string's first 200
-- characters: a B-tree entry is at most about 2,700 bytes, and a string of
-- 1,000 characters may take 4,000. An equality reads the range, then
-- checks the whole value. COLLATE "C": byte order, as in SQLite, so the
-- suggestions' prefix ranges hold exactly the names and values that start
-- with what is typed.
DROP INDEX user_properties_by_text;
ALTER TABLE user_properties
    ALTER COLUMN name TYPE TEXT COLLATE "C",
    ALTER COLUMN text_value TYPE TEXT COLLATE "C";
CREATE INDEX user_properties_by_text ON user_properties (app_id, name, substr(text_value, 1, 200), user_id);
