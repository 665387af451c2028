-- Users list: sort keys with indexes for keyset paging, and a token table
-- for search-as-you-type (prefix match on words of userID, userName, email).
-- sort_name and tokens are computed in Rust (Unicode lower-casing is not
-- the same in both databases); start-up backfills them for existing users.
-- COLLATE "C": byte order, as in SQLite, so prefix ranges and name order agree.
ALTER TABLE users ADD COLUMN sort_name TEXT COLLATE "C" NOT NULL DEFAULT '';
DROP INDEX users_by_name;
CREATE INDEX users_by_sort_name ON users (app_id, sort_name, id);
CREATE INDEX users_by_activity ON users (app_id, (COALESCE(last_seen_at, 0)), id);

CREATE TABLE user_search (
    app_id  BIGINT NOT NULL,
    token   TEXT COLLATE "C" NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (app_id, token, user_id)
);
CREATE INDEX user_search_by_user ON user_search (user_id);
