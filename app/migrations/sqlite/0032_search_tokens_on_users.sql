-- A user's search tokens are kept on the user's row too (" ana com silva "),
-- so a search word is checked on a candidate's row instead of through an
-- index of user_search by user, which is dropped: an import writes about
-- sixteen search rows per user, and that index's entries were a fifth of
-- its writes. A user's rows are deleted by their key, built from the list
-- and the sort name. Without that index the foreign key's cascade would
-- scan the table, so the table is rebuilt without it: every writer that
-- deletes a user deletes its search rows first (erasure, merge, app reset).
ALTER TABLE users ADD COLUMN search_tokens TEXT NOT NULL DEFAULT '';
UPDATE users SET search_tokens = (
    SELECT ' ' || group_concat(token, ' ' ORDER BY token) || ' ' FROM user_search WHERE user_id = users.id)
WHERE EXISTS (SELECT 1 FROM user_search WHERE user_id = users.id);
CREATE TABLE user_search_keyed (
    app_id     INTEGER NOT NULL,
    token      TEXT    NOT NULL,
    user_id    INTEGER NOT NULL,
    sort_name  TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, token, sort_name, user_id)
) WITHOUT ROWID;
INSERT INTO user_search_keyed (app_id, token, user_id, sort_name, created_at)
SELECT app_id, token, user_id, sort_name, created_at FROM user_search ORDER BY app_id, token, sort_name, user_id;
DROP TABLE user_search;
ALTER TABLE user_search_keyed RENAME TO user_search;
CREATE INDEX user_search_by_created ON user_search (app_id, token, created_at, user_id);
