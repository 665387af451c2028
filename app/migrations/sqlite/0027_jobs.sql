-- Background jobs: bulk actions over a view of the users list and CSV
-- imports, worked through in chunks (each chunk one transaction with its
-- audit rows and the job's progress), resumed by any instance when the
-- one running it stops (its heartbeat goes stale).
CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,
    app_id           INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    kind             TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    actor            TEXT    NOT NULL,
    description      TEXT    NOT NULL,
    params           TEXT    NOT NULL,
    total            INTEGER NOT NULL DEFAULT 0,
    done             INTEGER NOT NULL DEFAULT 0,
    changed          INTEGER NOT NULL DEFAULT 0,
    unchanged        INTEGER NOT NULL DEFAULT 0,
    refused          INTEGER NOT NULL DEFAULT 0,
    position         TEXT,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    owner            TEXT,
    heartbeat_at     INTEGER,
    error            TEXT,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER
);
CREATE INDEX jobs_by_app ON jobs (app_id, id);
CREATE INDEX jobs_unfinished ON jobs (id) WHERE status IN ('queued', 'running');

-- The users a bulk job acts on, as the view held them when it started; a
-- chunk's rows are deleted with the chunk's effect, so what is left is
-- exactly the work left.
CREATE TABLE job_users (
    job_id  INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
CREATE INDEX job_users_by_user ON job_users (user_id);

-- Rows an import refused, with their line numbers (the first 1,000).
CREATE TABLE job_refusals (
    job_id   INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    line     INTEGER NOT NULL,
    user_ref TEXT    NOT NULL,
    reason   TEXT    NOT NULL,
    PRIMARY KEY (job_id, line)
) WITHOUT ROWID;
