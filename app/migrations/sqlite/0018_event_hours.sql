-- Events per user and clock hour (UTC, `hour` its first millisecond), kept
-- with the events: the ingest adds a batch's counts in the transaction that
-- stores it, deletions take theirs away (store/event_hours.rs). A histogram
-- of days adds these up instead of counting every event of a heavy user.
CREATE TABLE event_hours (
    app_id  BIGINT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hour    BIGINT NOT NULL,
    n       BIGINT NOT NULL,
    PRIMARY KEY (app_id, user_id, hour)
) WITHOUT ROWID;  -- one B-tree, the key: half the pages an ingest writes
INSERT INTO event_hours (app_id, user_id, hour, n)
    SELECT app_id, user_id, occurred_at - occurred_at % 3600000, COUNT(*)
    FROM events WHERE user_id IS NOT NULL
    GROUP BY app_id, user_id, occurred_at - occurred_at % 3600000;
