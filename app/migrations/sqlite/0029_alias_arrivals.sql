-- Rows the app wrote through an alias (a merged userID) while a merge into
-- their user could still be undone: undoing the merge moves them to the
-- restored user, as the alias named it: one row per write (a batch of
-- events is one), `row_ids` the JSON array of the ids it wrote in the table
-- `kind` (events, devices or messages). Rows older than the undo window are
-- deleted at the next merge (nothing can undo them any more): the table
-- stays small, so that deletion needs no index of its own.
CREATE TABLE alias_arrivals (
    app_id     INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    alias      TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    row_ids    TEXT    NOT NULL,
    arrived_at INTEGER NOT NULL
);
CREATE INDEX alias_arrivals_by_alias ON alias_arrivals (app_id, alias, arrived_at);
