-- A bulk job's selection as blocks of user ids, one row per chunk of work,
-- keyed by the last place in the selection it holds. A round of the view
-- read writes a row per chunk instead of a row per user (a heap tuple and
-- two index entries each), and a chunk reads and drops one row. The ids are
-- a work list, not references: a chunk acts on those still users of the
-- app, and an erasure or a merge leaves the lists alone. Selections of jobs
-- running at the upgrade are kept, in blocks of 5,000 (50 for a Delete, as
-- it works).
CREATE TABLE job_blocks (
    job_id   BIGINT   NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    last_seq BIGINT   NOT NULL,
    user_ids BIGINT[] NOT NULL,
    PRIMARY KEY (job_id, last_seq)
);
INSERT INTO job_blocks (job_id, last_seq, user_ids)
    SELECT u.job_id, MAX(u.seq), array_agg(u.user_id ORDER BY u.seq) FROM job_users u JOIN jobs b ON b.id = u.job_id
    GROUP BY u.job_id, u.seq / CASE b.kind WHEN 'delete' THEN 50 ELSE 5000 END;
DROP TABLE job_users;
