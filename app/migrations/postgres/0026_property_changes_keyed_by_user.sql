-- The history's primary key is (user_id, id), the order every read uses
-- (a user's changes, newest first), instead of id alone beside an index on
-- (user_id, id): each recorded change updates one index, not two. The ids
-- stay unique (an identity). SQLite keeps `id INTEGER PRIMARY KEY`, the
-- row's own key, which costs no index there.
ALTER TABLE property_changes DROP CONSTRAINT property_changes_pkey;
ALTER TABLE property_changes ADD PRIMARY KEY (user_id, id);
DROP INDEX property_changes_by_user;
