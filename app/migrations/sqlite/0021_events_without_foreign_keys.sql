-- The events carry no foreign keys, as on PostgreSQL (its 0019). SQLite
-- checks a key by looking the parent row up: three B-tree descents per
-- stored event on the one writer, for rows the ingest has just looked up
-- itself in the same write transaction. What the keys guaranteed is kept by
-- the code on both databases: the ingest resolves users and devices in the
-- transaction that stores the events, and erasure deletes a user's events
-- itself (apps are never deleted).
--
-- SQLite cannot drop a constraint, so the table is rebuilt as its
-- documentation describes (lang_altertable.html#otheralter), in the
-- migration's one transaction, with the id sequence kept so no event id is
-- ever given out twice. No table refers to events, so dropping the old one
-- deletes no rows one by one.
CREATE TABLE events_rebuilt (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id      INTEGER NOT NULL,
    client_id   TEXT,
    event_type  TEXT    NOT NULL,
    user_id     INTEGER,
    device_id   INTEGER,
    session_id  TEXT,
    occurred_at INTEGER NOT NULL,
    data        TEXT,
    received_at INTEGER NOT NULL,
    UNIQUE (app_id, client_id)
);
INSERT INTO events_rebuilt (id, app_id, client_id, event_type, user_id, device_id, session_id, occurred_at, data, received_at)
    SELECT id, app_id, client_id, event_type, user_id, device_id, session_id, occurred_at, data, received_at FROM events ORDER BY id;
DELETE FROM sqlite_sequence WHERE name = 'events_rebuilt';
INSERT INTO sqlite_sequence (name, seq) SELECT 'events_rebuilt', seq FROM sqlite_sequence WHERE name = 'events';
DROP TABLE events;
ALTER TABLE events_rebuilt RENAME TO events;
CREATE INDEX events_by_user_occurred ON events (user_id, app_id, occurred_at, id);
CREATE INDEX events_by_user_type_occurred ON events (app_id, user_id, event_type, occurred_at, id);
CREATE INDEX events_by_app_type ON events (app_id, event_type);
CREATE INDEX events_by_device ON events (device_id, occurred_at, id);
