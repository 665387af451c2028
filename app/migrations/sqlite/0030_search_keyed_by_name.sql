-- The search table's key is the by-name posting order itself, so that
-- index is the table and every search row is written into three b-trees
-- instead of four (an import writes about sixteen rows per user; those
-- writes were most of its time). A user holds a token once and has one
-- sort name, so (app, token, sort name, user) is as unique as
-- (app, token, user) was. SQLite cannot change a key in place: the table
-- is rebuilt, in key order.
CREATE TABLE user_search_keyed (
    app_id     INTEGER NOT NULL,
    token      TEXT    NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sort_name  TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, token, sort_name, user_id)
) WITHOUT ROWID;
INSERT INTO user_search_keyed (app_id, token, user_id, sort_name, created_at)
SELECT app_id, token, user_id, sort_name, created_at FROM user_search ORDER BY app_id, token, sort_name, user_id;
DROP TABLE user_search;
ALTER TABLE user_search_keyed RENAME TO user_search;
CREATE INDEX user_search_by_created ON user_search (app_id, token, created_at, user_id);
CREATE INDEX user_search_by_user_token ON user_search (user_id, token);
