-- The device page's recent events, and deleting a device's events with it.
CREATE INDEX events_by_device ON events (device_id, occurred_at, id);
