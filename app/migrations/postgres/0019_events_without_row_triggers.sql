-- Ingest without a trigger per row. A foreign key runs one query per
-- inserted row (PostgreSQL's RI trigger, `SELECT 1 ... FOR KEY SHARE` on the
-- parent): three per event and one per claimed client id, and every
-- concurrent batch key-share-locked the same `apps` row (a multixact per
-- batch). Inserting 2,000 events took 92-102 ms with them, 37-41 ms without.
-- What they guaranteed is kept by the code, batched:
--  * existence: ingest looks its users and devices up in the transaction that
--    stores the events, `FOR KEY SHARE` (store/events.rs), the lock the
--    triggers took, once per batch instead of once per row;
--  * deletion: erasure deletes a user's events itself (store/erasure.rs, no
--    cascade) after locking the user and its devices `FOR UPDATE`, so a batch
--    naming them either commits first (and its events are deleted) or waits
--    and finds them gone; apps are never deleted.
-- SQLite keeps its foreign keys: there a check is a cheap in-process look-up.
DO $$
DECLARE
    fk record;
BEGIN
    FOR fk IN
        SELECT conrelid::regclass AS tbl, conname FROM pg_constraint
        WHERE contype = 'f' AND conrelid IN ('events'::regclass, 'event_client_ids'::regclass)
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.tbl, fk.conname);
    END LOOP;
END $$;

-- No query reads events by (app_id, id) any more (the app's types use
-- events_by_app_type, a user's events the per-user indexes).
DROP INDEX IF EXISTS events_by_app;
