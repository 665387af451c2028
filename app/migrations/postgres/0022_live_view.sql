-- The Live page's figures, read without scanning events.
-- Events per app, type and minute (UTC, `minute` its first millisecond) of
-- the last two hours: the ingest adds a batch's counts in its transaction,
-- the hourly maintenance forgets older minutes (store/event_minutes.rs).
CREATE TABLE event_minutes (
    app_id     BIGINT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    event_type TEXT   NOT NULL,
    minute     BIGINT NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (app_id, event_type, minute)
);
CREATE INDEX event_minutes_by_minute ON event_minutes (app_id, minute);
-- Devices by their last activity: the devices active now, by platform, and
-- their last positions for the live map.
CREATE INDEX devices_by_activity ON devices (app_id, last_active_at);
