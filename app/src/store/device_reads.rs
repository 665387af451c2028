//! Devices as the console shows them: a user's devices, one device with
//! its trail and events, and a device's new position for the live channel.
//! Deactivated users' devices are left out of every read here.

use super::activity::activity_columns;
use super::{with_pool, Store, StoreResult};
use crate::ids::LocationStatus;
use crate::model::activity::ActivityEvent;
use crate::model::devices::{Device, DeviceAttributes, DeviceMoved, Fix};

/// The columns of [`DeviceRow`], over `devices d JOIN users u`.
macro_rules! device_columns {
    () => {
        "d.id, d.user_id, d.external_id, d.platform, d.os_version, d.app_version, d.sdk_version, d.device_string, \
         d.language, d.timezone, d.transport, d.allowed_ui, d.location_status, d.bluetooth_enabled, \
         d.last_active_at, d.last_latitude, d.last_longitude, d.last_accuracy, d.last_location_at"
    };
}

#[derive(sqlx::FromRow)]
struct DeviceRow {
    id: i64,
    user_id: i64,
    external_id: String,
    #[sqlx(flatten)]
    attributes: DeviceAttributes,
    #[sqlx(try_from = "String")]
    location_status: LocationStatus,
    last_active_at: i64,
    last_latitude: Option<f64>,
    last_longitude: Option<f64>,
    last_accuracy: Option<f64>,
    last_location_at: Option<i64>,
}

impl From<DeviceRow> for Device {
    fn from(row: DeviceRow) -> Device {
        let last_fix = match (row.last_latitude, row.last_longitude, row.last_location_at) {
            (Some(latitude), Some(longitude), Some(at)) => {
                Some(Fix { latitude, longitude, accuracy: row.last_accuracy, at })
            }
            _ => None,
        };
        Device {
            id: row.id,
            external_id: row.external_id,
            attributes: row.attributes,
            location_status: row.location_status,
            last_active_at: row.last_active_at,
            last_fix,
        }
    }
}

#[derive(sqlx::FromRow)]
struct MovedRow {
    app_id: i64,
    user_id: i64,
    last_latitude: f64,
    last_longitude: f64,
    last_accuracy: Option<f64>,
    last_location_at: i64,
}

#[derive(sqlx::FromRow)]
struct FixRow {
    latitude: f64,
    longitude: f64,
    accuracy: Option<f64>,
    recorded_at: i64,
}

impl Store {
    /// The user's devices, most recently active first; none when the user
    /// is deactivated or not in this app. Found by the user (`+app_id`):
    /// the app's activity index also yields that order, and SQLite would
    /// walk every device of the app through it.
    pub async fn devices_of_user(&self, app_id: i64, user_id: i64) -> StoreResult<Vec<Device>> {
        let sql = concat!(
            "SELECT ",
            device_columns!(),
            " FROM devices d JOIN users u ON u.id = d.user_id
              WHERE +d.app_id = $1 AND d.user_id = $2 AND u.active
              ORDER BY d.last_active_at DESC, d.id"
        );
        let rows: Vec<DeviceRow> =
            with_pool!(self, |pool| sqlx::query_as(sql).bind(app_id).bind(user_id).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(Device::from).collect())
    }

    /// A device of this app and its user's id; `None` for another app's
    /// device, a device with no user, or a deactivated user's.
    pub async fn device_with_user(&self, app_id: i64, device_id: i64) -> StoreResult<Option<(Device, i64)>> {
        let sql = concat!(
            "SELECT ",
            device_columns!(),
            " FROM devices d JOIN users u ON u.id = d.user_id WHERE d.app_id = $1 AND d.id = $2 AND u.active"
        );
        let row: Option<DeviceRow> =
            with_pool!(self, |pool| sqlx::query_as(sql).bind(app_id).bind(device_id).fetch_optional(pool).await)?;
        Ok(row.map(|row| {
            let user_id = row.user_id;
            (Device::from(row), user_id)
        }))
    }

    /// The device's newest `limit` positions, oldest first, and whether
    /// older ones were left out.
    pub async fn trail(&self, app_id: i64, device_id: i64, limit: i64) -> StoreResult<(Vec<Fix>, bool)> {
        let sql = "SELECT latitude, longitude, accuracy, recorded_at FROM locations
                   WHERE app_id = $1 AND device_id = $2 ORDER BY recorded_at DESC, id DESC LIMIT $3";
        let rows: Vec<FixRow> = with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(app_id)
            .bind(device_id)
            .bind(limit + 1)
            .fetch_all(pool)
            .await)?;
        let truncated = rows.len() as i64 > limit;
        let mut trail: Vec<Fix> = rows
            .into_iter()
            .take(limit as usize)
            .map(|r| Fix { latitude: r.latitude, longitude: r.longitude, accuracy: r.accuracy, at: r.recorded_at })
            .collect();
        trail.reverse();
        Ok((trail, truncated))
    }

    /// The device's newest `limit` events, newest first.
    pub async fn device_events(&self, app_id: i64, device_id: i64, limit: i64) -> StoreResult<Vec<ActivityEvent>> {
        let sql = concat!(
            "SELECT ",
            activity_columns!(),
            " FROM events e LEFT JOIN devices d ON d.id = e.device_id
              WHERE e.app_id = $1 AND e.device_id = $2 ORDER BY e.occurred_at DESC, e.id DESC LIMIT $3"
        );
        with_pool!(self, |pool| Ok(sqlx::query_as(sql)
            .bind(app_id)
            .bind(device_id)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    /// The device's last position, as the live channel announces it; `None`
    /// without a fix or for a deactivated user's device.
    pub async fn device_moved(&self, device_id: i64) -> StoreResult<Option<DeviceMoved>> {
        let sql = "SELECT d.app_id, d.user_id, d.last_latitude, d.last_longitude, d.last_accuracy, d.last_location_at
                   FROM devices d JOIN users u ON u.id = d.user_id
                   WHERE d.id = $1 AND u.active AND d.last_location_at IS NOT NULL";
        let row: Option<MovedRow> =
            with_pool!(self, |pool| sqlx::query_as(sql).bind(device_id).fetch_optional(pool).await)?;
        Ok(row.map(|r| DeviceMoved {
            app_id: r.app_id,
            user_id: r.user_id,
            device_id,
            fix: Fix {
                latitude: r.last_latitude,
                longitude: r.last_longitude,
                accuracy: r.last_accuracy,
                at: r.last_location_at,
            },
        }))
    }
}
