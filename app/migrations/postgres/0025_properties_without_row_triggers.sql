-- Property writes without a trigger per row, as the events (0019). The
-- foreign keys ran two RI queries per written value and two per history
-- row, and every concurrent batch key-share-locked the same `apps` row (a
-- multixact per batch). What they guaranteed is kept by the code:
--  * existence: a write locks its users' rows (`FOR NO KEY UPDATE`, in id
--    order) before writing and refuses the write when one is gone
--    (store/property_writes.rs);
--  * deletion: erasure deletes a user's properties and their history itself
--    (store/erasure.rs) after locking the user `FOR UPDATE`; apps are never
--    deleted.
-- SQLite keeps its foreign keys: there a check is a cheap in-process look-up.
ALTER TABLE user_properties DROP CONSTRAINT IF EXISTS user_properties_user_id_fkey;
ALTER TABLE user_properties DROP CONSTRAINT IF EXISTS user_properties_app_id_fkey;
ALTER TABLE property_changes DROP CONSTRAINT IF EXISTS property_changes_user_id_fkey;
ALTER TABLE property_changes DROP CONSTRAINT IF EXISTS property_changes_app_id_fkey;
