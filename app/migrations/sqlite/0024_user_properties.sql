-- User properties: typed attributes the app sends or an admin edits.
-- One row per property; the typed value sits in the column its kind uses
-- (strings in `text_value`; numbers, dates as epoch milliseconds and
-- booleans as 0/1 in `number_value`), so a filter reads one index range.
CREATE TABLE user_properties (
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    app_id       INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('string', 'number', 'boolean', 'date')),
    text_value   TEXT,
    number_value REAL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (user_id, name)
) WITHOUT ROWID;
CREATE INDEX user_properties_by_text ON user_properties (app_id, name, text_value, user_id);
CREATE INDEX user_properties_by_number ON user_properties (app_id, name, kind, number_value, user_id);

-- Every change of a property: its old and new value (the value as JSON,
-- `{"kind": …, "value": …}`; NULL when absent), who made it (`api` or the
-- admin's email) and when. Newest first per user for the history box.
CREATE TABLE property_changes (
    id         INTEGER PRIMARY KEY,
    app_id     INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    old_value  TEXT,
    new_value  TEXT,
    changed_by TEXT    NOT NULL,
    changed_at INTEGER NOT NULL
);
CREATE INDEX property_changes_by_user ON property_changes (user_id, id);
