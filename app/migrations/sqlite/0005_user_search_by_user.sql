-- Lets a search check "does this user have a token starting with …" by index,
-- for the words after the one a selective search is driven from.
DROP INDEX user_search_by_user;
CREATE INDEX user_search_by_user_token ON user_search (user_id, token);
