-- One index fewer for every stored event (each partition's index entries
-- are most of what an ingest writes besides the rows). `events_by_user_id`
-- (user_id, id) served the live stream's replay after Last-Event-ID and the
-- export; both read `events_by_user_occurred` (app_id, user_id, …) now,
-- naming the user's app. SQLite's migration of the same number drops it too.
DROP INDEX IF EXISTS events_by_user_id;
