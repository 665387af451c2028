-- The profile's event search, histogram and last hour: a user's events in
-- time order, alone or of one type, answered from the index (app_id leads
-- so the app scope needs no row read). They replace events_by_user_time.
DROP INDEX events_by_user_time;
CREATE INDEX events_by_user_occurred ON events (app_id, user_id, occurred_at, id);
CREATE INDEX events_by_user_type_occurred ON events (app_id, user_id, event_type, occurred_at, id);
-- The type filter's choices: the app's distinct types, by skipping through this.
CREATE INDEX events_by_app_type ON events (app_id, event_type);
-- The unified timeline's audit rows about one user.
CREATE INDEX audit_by_user ON audit (user_id, created_at, id);
