-- Merging users: one person recorded under two userIDs becomes one
-- profile. A merge keeps what it moved (the merged user's row and the ids
-- of its rows, in `record` as JSON) so that it can be undone; the merged
-- user's row itself is deleted. `merged_id` is the merged user's former
-- id (its old profile URL redirects to the kept user through it).
CREATE TABLE user_merges (
    id                 INTEGER PRIMARY KEY,
    app_id             INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    kept_id            INTEGER NOT NULL,
    merged_id          INTEGER NOT NULL,
    merged_external_id TEXT    NOT NULL,
    record             TEXT    NOT NULL,
    actor              TEXT    NOT NULL,
    merged_at          INTEGER NOT NULL,
    undone_at          INTEGER
);
CREATE INDEX user_merges_by_merged ON user_merges (merged_id);
CREATE INDEX user_merges_by_kept ON user_merges (kept_id, merged_at);

-- A merged userID names the kept user from then on: the ingest looks here
-- when a userID is not a user's. One step: merging B into C re-points the
-- aliases of B to C.
CREATE TABLE user_aliases (
    app_id      INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    external_id TEXT    NOT NULL,
    user_id     INTEGER NOT NULL,
    merge_id    INTEGER NOT NULL,
    PRIMARY KEY (app_id, external_id)
);
CREATE INDEX user_aliases_by_user ON user_aliases (user_id);
