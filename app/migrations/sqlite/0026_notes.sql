-- Notes: admins' plain-text words about a user, newest first on the
-- profile. `author` is the account's email when written (kept if the
-- account goes); `author_id` decides who may edit.
CREATE TABLE notes (
    id         INTEGER PRIMARY KEY,
    app_id     INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    author_id  INTEGER NOT NULL,
    author     TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX notes_by_user ON notes (user_id, id);
