-- Sorted postings: every search-token entry carries its user's stable sort
-- keys (name, created), so a broad search in those orders reads a few index
-- ranges already in list order (store/user_postings.rs) instead of scanning
-- every user or sorting every match. Both keys change only when the tokens
-- are rewritten anyway (a new userName), or never (created).
-- Tokens are no longer whole multi-word names (a search word never holds a
-- space, so they only duplicated their first word).
DELETE FROM user_search WHERE token LIKE '% %';
ALTER TABLE user_search ADD COLUMN sort_name TEXT NOT NULL DEFAULT '';
ALTER TABLE user_search ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
UPDATE user_search
   SET (sort_name, created_at) = (SELECT sort_name, created_at FROM users WHERE users.id = user_search.user_id);
CREATE INDEX user_search_by_name ON user_search (app_id, token, sort_name, user_id);
CREATE INDEX user_search_by_created ON user_search (app_id, token, created_at, user_id);

-- The list's scans check `active` in the index, reading a row only for
-- the users they keep.
DROP INDEX users_by_activity;
CREATE INDEX users_by_activity ON users (app_id, (COALESCE(last_seen_at, 0)), id, active);
DROP INDEX users_by_sort_name;
CREATE INDEX users_by_sort_name ON users (app_id, sort_name, id, active);
DROP INDEX users_by_created;
CREATE INDEX users_by_created ON users (app_id, created_at DESC, id DESC, active);
