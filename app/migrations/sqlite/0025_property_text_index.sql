-- The property filter's and suggestions' index holds a string's first 200
-- characters, so an index entry stays small whatever the value (up to
-- 1,000 characters); an equality reads the range, then checks the whole value.
DROP INDEX user_properties_by_text;
CREATE INDEX user_properties_by_text ON user_properties (app_id, name, substr(text_value, 1, 200), user_id);
