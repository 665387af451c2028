-- Audience console schema (SQLite). Timestamps are epoch milliseconds.
-- Keep in step with ../postgres/0001_init.sql: only DDL differs, queries are shared.

CREATE TABLE apps (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL,
    api_key_hash TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX apps_name_ci ON apps (lower(name));

CREATE TABLE users (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id       INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    external_id  TEXT    NOT NULL,
    user_name    TEXT,
    email        TEXT,
    active       BOOLEAN NOT NULL DEFAULT TRUE,
    push_token   TEXT UNIQUE,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    last_seen_at INTEGER,
    UNIQUE (app_id, external_id)
);
CREATE INDEX users_by_created ON users (app_id, created_at DESC, id DESC);
CREATE INDEX users_by_name ON users (app_id, user_name);

CREATE TABLE segments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id      INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX segments_name_ci ON segments (app_id, lower(name));

CREATE TABLE segment_members (
    segment_id INTEGER NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_by   TEXT    NOT NULL,
    added_at   INTEGER NOT NULL,
    PRIMARY KEY (segment_id, user_id)
);
CREATE INDEX segment_members_by_user ON segment_members (user_id);

CREATE TABLE devices (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id            INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    external_id       TEXT    NOT NULL,
    user_id           INTEGER REFERENCES users (id) ON DELETE CASCADE,
    platform          TEXT    NOT NULL,
    os_version        TEXT,
    app_version       TEXT,
    sdk_version       TEXT,
    device_string     TEXT,
    language          TEXT,
    timezone          TEXT,
    transport         TEXT,
    allowed_ui        BOOLEAN,
    location_status   TEXT    NOT NULL DEFAULT 'none',
    bluetooth_enabled BOOLEAN,
    last_active_at    INTEGER NOT NULL,
    last_latitude     REAL,
    last_longitude    REAL,
    last_accuracy     REAL,
    last_location_at  INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    UNIQUE (app_id, external_id)
);
CREATE INDEX devices_by_user ON devices (user_id);

CREATE TABLE locations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id      INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    device_id   INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    latitude    REAL    NOT NULL,
    longitude   REAL    NOT NULL,
    accuracy    REAL,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX locations_by_device ON locations (device_id, recorded_at DESC);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id      INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    client_id   TEXT,
    event_type  TEXT    NOT NULL,
    user_id     INTEGER REFERENCES users (id) ON DELETE CASCADE,
    device_id   INTEGER REFERENCES devices (id) ON DELETE CASCADE,
    session_id  TEXT,
    occurred_at INTEGER NOT NULL,
    data        TEXT,
    received_at INTEGER NOT NULL,
    UNIQUE (app_id, client_id)
);
CREATE INDEX events_by_user_time ON events (user_id, occurred_at DESC);
CREATE INDEX events_by_app ON events (app_id, id);

CREATE TABLE messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id     INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    sender     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX messages_by_user ON messages (user_id, created_at DESC);

CREATE TABLE message_deliveries (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    device_id  INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    status     TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, device_id)
);

CREATE TABLE audit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id     INTEGER REFERENCES apps (id) ON DELETE SET NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    user_id    INTEGER,
    detail     TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX audit_by_app ON audit (app_id, created_at DESC);
