//! Devices of end-users and their location trail.

use super::aliases::Arrived;
use super::batch::chunks;
use super::{with_pool, with_tx, write_tx, Store, StoreError, StoreResult, WriteTx};
use crate::ids::{ExternalId, LocationStatus};
use crate::model::devices::DeviceAttributes;

/// A device registration as the ingest API accepts it (already validated).
#[derive(Debug, Clone, Default)]
pub struct DeviceInput {
    /// External userID to link the device to; `None` leaves the link as it is.
    pub user_external_id: Option<ExternalId>,
    pub attributes: DeviceAttributes,
    /// `None` keeps the stored status (a new device starts with `none`).
    pub location_status: Option<LocationStatus>,
}

/// One position report (already validated).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocationInput {
    pub latitude: f64,
    pub longitude: f64,
    pub accuracy: Option<f64>,
    pub recorded_at: i64,
}

impl Store {
    /// Registers or updates a device and links it to its user. Fails with
    /// `UnknownReference` when the userID does not exist in this app.
    pub async fn upsert_device(
        &self,
        app_id: i64,
        external_id: &ExternalId,
        input: &DeviceInput,
        now: i64,
    ) -> StoreResult<i64> {
        write_tx!(self, |tx| tx.upsert_device(app_id, external_id, input, now).await)
    }

    pub async fn device_id_by_external_id(&self, app_id: i64, external_id: &str) -> StoreResult<Option<i64>> {
        let sql = "SELECT id FROM devices WHERE app_id = $1 AND external_id = $2";
        with_pool!(self, |pool| Ok(sqlx::query_scalar::<_, i64>(sql)
            .bind(app_id)
            .bind(external_id)
            .fetch_optional(pool)
            .await?))
    }

    /// Appends positions to a device's trail in one transaction and moves the
    /// device's last known location to the newest of them. `true` when the
    /// last location moved (a point newer than it arrived): on PostgreSQL
    /// the transaction has then announced it on the live channel.
    pub async fn add_locations(&self, app_id: i64, device_id: i64, points: &[LocationInput]) -> StoreResult<bool> {
        write_tx!(self, |tx| tx.add_locations(app_id, device_id, points).await)
    }

    /// A device's last known location: (latitude, longitude, accuracy, time).
    pub async fn last_location(
        &self,
        app_id: i64,
        device_id: i64,
    ) -> StoreResult<Option<(f64, f64, Option<f64>, i64)>> {
        let sql = "SELECT last_latitude, last_longitude, last_accuracy, last_location_at FROM devices
                   WHERE app_id = $1 AND id = $2 AND last_location_at IS NOT NULL";
        with_pool!(self, |pool| Ok(sqlx::query_as(sql).bind(app_id).bind(device_id).fetch_optional(pool).await?))
    }

    /// Number of stored trail points of a device (used by tests and the demo report).
    pub async fn count_locations(&self, device_id: i64) -> StoreResult<i64> {
        let sql = "SELECT COUNT(*) FROM locations WHERE device_id = $1";
        with_pool!(self, |pool| Ok(sqlx::query_scalar::<_, i64>(sql).bind(device_id).fetch_one(pool).await?))
    }
}

impl WriteTx {
    /// Registers or updates a device and links it to its user. Fails with
    /// `UnknownReference` when the userID does not exist in this app.
    pub async fn upsert_device(
        &mut self,
        app_id: i64,
        external_id: &ExternalId,
        input: &DeviceInput,
        now: i64,
    ) -> StoreResult<i64> {
        let upsert = "INSERT INTO devices (app_id, external_id, user_id, platform, os_version, app_version,
                 sdk_version, device_string, language, timezone, transport, allowed_ui, location_status,
                 bluetooth_enabled, last_active_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, COALESCE($13, 'none'), $14, $15, $15, $15)
             ON CONFLICT (app_id, external_id) DO UPDATE SET
                 user_id = COALESCE(excluded.user_id, devices.user_id),
                 platform = excluded.platform,
                 os_version = COALESCE(excluded.os_version, devices.os_version),
                 app_version = COALESCE(excluded.app_version, devices.app_version),
                 sdk_version = COALESCE(excluded.sdk_version, devices.sdk_version),
                 device_string = COALESCE(excluded.device_string, devices.device_string),
                 language = COALESCE(excluded.language, devices.language),
                 timezone = COALESCE(excluded.timezone, devices.timezone),
                 transport = COALESCE(excluded.transport, devices.transport),
                 allowed_ui = COALESCE(excluded.allowed_ui, devices.allowed_ui),
                 location_status = CASE WHEN $13 IS NULL THEN devices.location_status ELSE excluded.location_status END,
                 bluetooth_enabled = COALESCE(excluded.bluetooth_enabled, devices.bluetooth_enabled),
                 last_active_at = excluded.last_active_at,
                 updated_at = excluded.updated_at
             RETURNING id";
        // A merged userID names its kept user.
        let mut alias = None;
        let user_id: Option<i64> = match &input.user_external_id {
            None => None,
            Some(external) => {
                let name = external.as_str();
                let (found, merged) = self.user_ids_and_aliases(app_id, &[name]).await?;
                alias = merged.contains_key(name).then_some(name);
                Some(*found.get(name).ok_or_else(|| StoreError::UnknownReference {
                    field: "userID".into(),
                    value: external.to_string(),
                })?)
            }
        };
        let attributes = &input.attributes;
        let id = with_tx!(self, |conn| {
            let id: i64 = sqlx::query_scalar(upsert)
                .bind(app_id)
                .bind(external_id.as_str())
                .bind(user_id)
                .bind(&attributes.platform)
                .bind(&attributes.os_version)
                .bind(&attributes.app_version)
                .bind(&attributes.sdk_version)
                .bind(&attributes.device_string)
                .bind(&attributes.language)
                .bind(&attributes.timezone)
                .bind(&attributes.transport)
                .bind(attributes.allowed_ui)
                .bind(input.location_status.map(LocationStatus::as_str))
                .bind(attributes.bluetooth_enabled)
                .bind(now)
                .fetch_one(&mut *conn)
                .await?;
            Ok::<i64, StoreError>(id)
        })?;
        if let (Some(alias), Some(user)) = (alias, user_id) {
            self.note_arrivals((app_id, user), alias, Arrived::Devices, &[id], now).await?;
        }
        Ok(id)
    }

    /// See [`Store::add_locations`]. Points go in with multi-row statements;
    /// the device row is updated once, after them.
    pub async fn add_locations(&mut self, app_id: i64, device_id: i64, points: &[LocationInput]) -> StoreResult<bool> {
        let Some(newest) = points.iter().max_by_key(|p| p.recorded_at) else {
            return Ok(false);
        };
        let update_last = "UPDATE devices SET last_latitude = $1, last_longitude = $2, last_accuracy = $3,
                               last_location_at = $4
                           WHERE id = $5 AND app_id = $6
                             AND (last_location_at IS NULL OR last_location_at <= $4)";
        let marks = self.marks();
        with_tx!(self, |conn| {
            for chunk in chunks(points) {
                let sql = format!(
                    "INSERT INTO locations (app_id, device_id, latitude, longitude, accuracy, recorded_at) VALUES {}",
                    marks.values(chunk.len(), 6)
                );
                let mut query = sqlx::query(&sql);
                for point in chunk {
                    query = query
                        .bind(app_id)
                        .bind(device_id)
                        .bind(point.latitude)
                        .bind(point.longitude)
                        .bind(point.accuracy)
                        .bind(point.recorded_at);
                }
                query.execute(&mut *conn).await?;
            }
        });
        let moved = with_tx!(self, |conn| sqlx::query(update_last)
            .bind(newest.latitude)
            .bind(newest.longitude)
            .bind(newest.accuracy)
            .bind(newest.recorded_at)
            .bind(device_id)
            .bind(app_id)
            .execute(&mut *conn)
            .await?
            .rows_affected())
            > 0;
        if moved {
            self.notify_moved(device_id).await?;
        }
        Ok(moved)
    }
}
