-- The activity order's index carries last_seen_at itself: PostgreSQL
-- answers a query from an index alone only when every column it names is
-- in the index, and COALESCE(last_seen_at, 0) alone does not count. A
-- search's walk in activity order (and the position its budget ends at)
-- then checks users without reading their rows.
DROP INDEX users_by_activity;
CREATE INDEX users_by_activity ON users (app_id, (COALESCE(last_seen_at, 0)), id, active) INCLUDE (last_seen_at);
