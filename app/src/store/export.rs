//! The rows of one user's export (Options > Export), as streams read
//! straight from the database: the exporter writes each row as it arrives,
//! so a user with millions of events never sits in memory. Each stream is in
//! an index's order (no sort in the database, which for SQLite would be in
//! this process).

use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use serde::Serialize;

use super::{with_pool, Store, StoreError, StoreResult};
use crate::model::devices::DeviceAttributes;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ExportedDevice {
    pub id: i64,
    pub device_id: String,
    #[serde(flatten)]
    #[sqlx(flatten)]
    pub attributes: DeviceAttributes,
    pub location_status: String,
    pub last_active_at: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ExportedLocation {
    pub device_id: i64,
    pub latitude: f64,
    pub longitude: f64,
    pub accuracy: Option<f64>,
    pub recorded_at: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ExportedEvent {
    pub id: i64,
    pub client_id: Option<String>,
    pub event_type: String,
    pub device_id: Option<i64>,
    pub session_id: Option<String>,
    pub occurred_at: i64,
    pub received_at: i64,
    /// The event's data as the app sent it (JSON text).
    pub data: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ExportedMessage {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub source: String,
    pub sender: String,
    pub envelope_sender: Option<String>,
    /// JSON text: `[{"name": …, "size": …}]` (the exporter writes it as JSON).
    #[serde(skip)]
    pub attachments: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ExportedDelivery {
    pub message_id: i64,
    pub device_id: i64,
    pub status: String,
    pub delivered_at: Option<i64>,
    pub opened_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ExportedMembership {
    pub segment: String,
    pub added_by: String,
    pub added_at: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ExportedAudit {
    pub actor: String,
    pub action: String,
    pub detail: String,
    pub created_at: i64,
}

/// Rows of one section, as they come from the database.
pub type Rows<'a, T> = BoxStream<'a, StoreResult<T>>;

/// A user's events, oldest first, from `events_by_user_occurred`, which
/// PostgreSQL keys by app then user: hence the user's app (`$1` the user).
pub(crate) const EXPORT_EVENTS: &str =
    "SELECT id, client_id, event_type, device_id, session_id, occurred_at, received_at, data
     FROM events WHERE app_id = (SELECT app_id FROM users WHERE id = $1) AND user_id = $1
     ORDER BY occurred_at, id";

/// One query as a stream of `T`, bound to the user's id.
macro_rules! rows_of_user {
    ($store:expr, $sql:expr, $user_id:expr) => {
        with_pool!($store, |pool| sqlx::query_as($sql).bind($user_id).fetch(pool).map_err(StoreError::from).boxed())
    };
}

impl Store {
    pub fn export_memberships(&self, user_id: i64) -> Rows<'_, ExportedMembership> {
        let sql = "SELECT s.name AS segment, m.added_by, m.added_at FROM segment_members m
                   JOIN segments s ON s.id = m.segment_id WHERE m.user_id = $1 ORDER BY s.name";
        rows_of_user!(self, sql, user_id)
    }

    pub fn export_devices(&self, user_id: i64) -> Rows<'_, ExportedDevice> {
        let sql = "SELECT id, external_id AS device_id, platform, os_version, app_version, sdk_version, device_string,
                          language, timezone, transport, allowed_ui, location_status, bluetooth_enabled,
                          last_active_at, created_at
                   FROM devices WHERE user_id = $1 ORDER BY id";
        rows_of_user!(self, sql, user_id)
    }

    /// Every recorded position of the user's devices, by device, newest
    /// first (`locations_by_device`'s order).
    pub fn export_locations(&self, user_id: i64) -> Rows<'_, ExportedLocation> {
        let sql = "SELECT l.device_id, l.latitude, l.longitude, l.accuracy, l.recorded_at
                   FROM devices d JOIN locations l ON l.device_id = d.id
                   WHERE d.user_id = $1 ORDER BY l.device_id, l.recorded_at DESC";
        rows_of_user!(self, sql, user_id)
    }

    /// The user's events, oldest first.
    pub fn export_events(&self, user_id: i64) -> Rows<'_, ExportedEvent> {
        rows_of_user!(self, EXPORT_EVENTS, user_id)
    }

    /// Events of the user's devices that name no user (sent before the
    /// device was registered to it).
    pub fn export_device_only_events(&self, user_id: i64) -> Rows<'_, ExportedEvent> {
        let sql = "SELECT e.id, e.client_id, e.event_type, e.device_id, e.session_id, e.occurred_at, e.received_at,
                          e.data
                   FROM devices d JOIN events e ON e.device_id = d.id
                   WHERE d.user_id = $1 AND e.user_id IS NULL ORDER BY e.device_id, e.occurred_at, e.id";
        rows_of_user!(self, sql, user_id)
    }

    /// The user's messages, oldest first (id order, as [`Store::export_deliveries`]).
    pub fn export_messages(&self, user_id: i64) -> Rows<'_, ExportedMessage> {
        let sql = "SELECT id, title, body, source, sender, envelope_sender, attachments, created_at
                   FROM messages WHERE user_id = $1 ORDER BY id";
        rows_of_user!(self, sql, user_id)
    }

    /// The deliveries of the user's messages, by message id, so the
    /// exporter can merge them into [`Store::export_messages`] as it goes.
    pub fn export_deliveries(&self, user_id: i64) -> Rows<'_, ExportedDelivery> {
        let sql = "SELECT md.message_id, md.device_id, md.status, md.delivered_at, md.opened_at
                   FROM messages m JOIN message_deliveries md ON md.message_id = m.id
                   WHERE m.user_id = $1 ORDER BY md.message_id, md.device_id";
        rows_of_user!(self, sql, user_id)
    }

    /// The audit entries about the user, oldest first (`audit_by_user`).
    pub fn export_audit(&self, user_id: i64) -> Rows<'_, ExportedAudit> {
        let sql = "SELECT actor, action, detail, created_at FROM audit WHERE user_id = $1 ORDER BY created_at, id";
        rows_of_user!(self, sql, user_id)
    }
}
