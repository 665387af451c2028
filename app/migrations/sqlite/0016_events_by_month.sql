-- PostgreSQL partitions events by month here (its 0016). SQLite keeps one
-- events table with its UNIQUE (app_id, client_id), and the retention
-- setting deletes old events by time; nothing changes in its schema.
SELECT 1;
