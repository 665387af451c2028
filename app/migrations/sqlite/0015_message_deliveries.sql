-- Per-device delivery of private messages: queued when sent, delivered when
-- the device reads its inbox, opened when it says so.
ALTER TABLE message_deliveries ADD COLUMN delivered_at INTEGER;
ALTER TABLE message_deliveries ADD COLUMN opened_at INTEGER;
-- A device's inbox.
CREATE INDEX deliveries_by_device ON message_deliveries (device_id, message_id);
