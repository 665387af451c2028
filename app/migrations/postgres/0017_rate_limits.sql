-- Rate limits shared by every server instance on one database (GCRA: the
-- theoretical arrival time per key, in microseconds). Used on PostgreSQL,
-- where several instances can share one database; SQLite keeps the same
-- table so both schemas stay alike.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    tat BIGINT NOT NULL
);
