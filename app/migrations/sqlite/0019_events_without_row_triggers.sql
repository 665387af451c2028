-- No query reads events by (app_id, id) any more (the app's types use
-- events_by_app_type, a user's events the per-user indexes). PostgreSQL's
-- migration of the same number also drops the events' foreign keys; SQLite
-- keeps them (a check there is a cheap in-process look-up).
DROP INDEX IF EXISTS events_by_app;
