-- Bulk writes without a foreign-key check per row, as the events (0019)
-- and the properties (0025). An import writes about sixteen search rows per
-- user, and a bulk "Add to segment" a membership, an audit row and a
-- selection row per user: their checks were half of the statements' time.
-- What the keys guaranteed is kept by the code:
--  * existence: search rows are written in the transaction that inserted
--    or updated (so locked) their user, and a re-index writes rows only for
--    the users its update found; memberships are written for users locked
--    `FOR KEY SHARE` first (a job's chunk, a join, an add), in segments of
--    the app read in the same transaction; a job's selection rows are
--    written by the job's start, for a job that exists;
--  * deletion: erasure deletes a user's search rows and memberships itself
--    (store/erasure.rs) after locking the user `FOR UPDATE`; segments, jobs
--    and apps are only removed after their rows (store/seed/app_reset.rs);
--  * an audit row names an app the caller has just read (its key, its
--    session or its job).
-- SQLite keeps its foreign keys: there a check is a cheap in-process look-up.
ALTER TABLE user_search DROP CONSTRAINT user_search_user_id_fkey;
ALTER TABLE segment_members DROP CONSTRAINT segment_members_user_id_fkey;
ALTER TABLE segment_members DROP CONSTRAINT segment_members_segment_id_fkey;
ALTER TABLE audit DROP CONSTRAINT audit_app_id_fkey;
ALTER TABLE job_users DROP CONSTRAINT job_users_job_id_fkey;
