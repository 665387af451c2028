-- A bulk job's selection as blocks of user ids, one row per chunk of work
-- (its ids as a JSON array), keyed by the last place in the selection it
-- holds. A round of the view read writes a row per chunk instead of a row
-- per user, and a chunk reads and drops one row. The ids are a work list,
-- not references: a chunk acts on those still users of the app, and an
-- erasure or a merge leaves the lists alone. Selections of jobs running at
-- the upgrade are kept, in blocks of 5,000 (50 for a Delete, as it works).
CREATE TABLE job_blocks (
    job_id   INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    last_seq INTEGER NOT NULL,
    user_ids TEXT    NOT NULL,
    PRIMARY KEY (job_id, last_seq)
) WITHOUT ROWID;
INSERT INTO job_blocks (job_id, last_seq, user_ids)
    SELECT u.job_id, MAX(u.seq), json_group_array(u.user_id) FROM job_users u JOIN jobs b ON b.id = u.job_id
    GROUP BY u.job_id, u.seq / CASE b.kind WHEN 'delete' THEN 50 ELSE 5000 END;
DROP TABLE job_users;
