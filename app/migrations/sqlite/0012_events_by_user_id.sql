-- A user's events in id order: the live stream's replay after Last-Event-ID.
CREATE INDEX events_by_user_id ON events (user_id, id);
