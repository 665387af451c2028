//! The bench dataset's bulk writes and the reads that make its seeding
//! resumable (`server bench seed`): devices, location trails, segment
//! memberships and messages with their deliveries, loaded through
//! [`WriteTx::bulk_load`] (`COPY` on PostgreSQL).

use super::bulk_load::Cell;
use crate::model::properties::PropertyValue;
use crate::store::{with_pool, write_tx, Store, StoreResult};

/// A device to bulk-insert for an existing user.
#[derive(Debug, Clone)]
pub struct BulkDevice {
    pub external_id: String,
    pub user_id: i64,
    pub platform: &'static str,
    pub os_version: &'static str,
    pub device_string: &'static str,
    pub last_active_at: i64,
    /// Latitude, longitude, time of the last known location.
    pub location: Option<(f64, f64, i64)>,
}

/// The next key after every string that starts with `prefix` (its last
/// byte plus one), for a range scan on an index.
fn prefix_end(prefix: &str) -> String {
    let mut end = prefix.to_string();
    let last = end.pop().expect("a non-empty prefix");
    end.push(char::from_u32(last as u32 + 1).expect("an ASCII prefix"));
    end
}

impl Store {
    /// Ids of the app's users whose external id starts with `prefix`, in
    /// external-id order.
    pub async fn user_ids_with_prefix(&self, app_id: i64, prefix: &str) -> StoreResult<Vec<i64>> {
        let sql = "SELECT id FROM users WHERE app_id = $1 AND external_id >= $2 AND external_id < $3
                   ORDER BY external_id";
        self.ids_in_range(sql, app_id, prefix).await
    }

    /// Ids of the app's devices whose external id starts with `prefix`, in
    /// external-id order.
    pub async fn device_ids_with_prefix(&self, app_id: i64, prefix: &str) -> StoreResult<Vec<i64>> {
        let sql = "SELECT id FROM devices WHERE app_id = $1 AND external_id >= $2 AND external_id < $3
                   ORDER BY external_id";
        self.ids_in_range(sql, app_id, prefix).await
    }

    /// Runs `sql` (app id, then the prefix's key range) for a list of ids.
    async fn ids_in_range(&self, sql: &str, app_id: i64, prefix: &str) -> StoreResult<Vec<i64>> {
        let end = prefix_end(prefix);
        with_pool!(self, |pool| Ok(sqlx::query_scalar(sql)
            .bind(app_id)
            .bind(prefix)
            .bind(&end)
            .fetch_all(pool)
            .await?))
    }

    /// The app's segment ids, oldest first.
    pub async fn segment_ids(&self, app_id: i64) -> StoreResult<Vec<i64>> {
        let sql = "SELECT id FROM segments WHERE app_id = $1 ORDER BY id";
        with_pool!(self, |pool| Ok(sqlx::query_scalar(sql).bind(app_id).fetch_all(pool).await?))
    }

    /// How many events one user has.
    pub async fn count_user_events(&self, user_id: i64) -> StoreResult<i64> {
        let sql =
            "SELECT COUNT(*) FROM events WHERE app_id = (SELECT app_id FROM users WHERE id = $1) AND user_id = $1";
        with_pool!(self, |pool| Ok(sqlx::query_scalar(sql).bind(user_id).fetch_one(pool).await?))
    }

    /// Rows the dataset has so far: devices, locations, memberships, messages.
    pub async fn dataset_counts(&self, app_id: i64) -> StoreResult<[i64; 4]> {
        let sql = "SELECT (SELECT COUNT(*) FROM devices WHERE app_id = $1),
                          (SELECT COUNT(*) FROM locations WHERE app_id = $1),
                          (SELECT COUNT(*) FROM segment_members m JOIN segments s ON s.id = m.segment_id
                            WHERE s.app_id = $1),
                          (SELECT COUNT(*) FROM messages WHERE app_id = $1)";
        with_pool!(self, |pool| {
            let row: (i64, i64, i64, i64) = sqlx::query_as(sql).bind(app_id).fetch_one(pool).await?;
            Ok([row.0, row.1, row.2, row.3])
        })
    }

    /// Inserts devices (new external ids), in one transaction.
    pub async fn bulk_insert_devices(&self, app_id: i64, devices: &[BulkDevice], now: i64) -> StoreResult<()> {
        const COLUMNS: &[&str] = &[
            "app_id",
            "external_id",
            "user_id",
            "platform",
            "os_version",
            "device_string",
            "location_status",
            "last_active_at",
            "last_latitude",
            "last_longitude",
            "last_location_at",
            "created_at",
            "updated_at",
        ];
        let rows: Vec<Vec<Cell>> = devices
            .iter()
            .map(|d| {
                vec![
                    app_id.into(),
                    d.external_id.as_str().into(),
                    d.user_id.into(),
                    d.platform.into(),
                    d.os_version.into(),
                    d.device_string.into(),
                    if d.location.is_some() { "always" } else { "none" }.into(),
                    d.last_active_at.into(),
                    d.location.map(|l| l.0).into(),
                    d.location.map(|l| l.1).into(),
                    d.location.map(|l| l.2).into(),
                    now.into(),
                    now.into(),
                ]
            })
            .collect();
        write_tx!(self, |tx| tx.bulk_load("devices", COLUMNS, &rows).await.map(|_| ()))
    }

    /// Inserts location points `(device_id, latitude, longitude, recorded_at)`.
    pub async fn bulk_insert_locations(&self, app_id: i64, points: &[(i64, f64, f64, i64)]) -> StoreResult<()> {
        const COLUMNS: &[&str] = &["app_id", "device_id", "latitude", "longitude", "accuracy", "recorded_at"];
        let rows: Vec<Vec<Cell>> = points
            .iter()
            .map(|&(device, lat, lng, at)| {
                vec![app_id.into(), device.into(), lat.into(), lng.into(), 25.0.into(), at.into()]
            })
            .collect();
        write_tx!(self, |tx| tx.bulk_load("locations", COLUMNS, &rows).await.map(|_| ()))
    }

    /// Inserts properties `(user_id, name, value)` of the app's users (new
    /// pairs only), without history: the bench's dataset.
    pub async fn bulk_insert_properties(
        &self,
        app_id: i64,
        properties: &[(i64, String, PropertyValue)],
        now: i64,
    ) -> StoreResult<()> {
        const COLUMNS: &[&str] = &["user_id", "app_id", "name", "kind", "text_value", "number_value", "updated_at"];
        let rows: Vec<Vec<Cell>> = properties
            .iter()
            .map(|(user, name, value)| {
                let (kind, text, number) = crate::store::properties::columns(value);
                vec![
                    (*user).into(),
                    app_id.into(),
                    name.as_str().into(),
                    kind.into(),
                    text.map(str::to_string).into(),
                    number.into(),
                    now.into(),
                ]
            })
            .collect();
        write_tx!(self, |tx| tx.bulk_load("user_properties", COLUMNS, &rows).await.map(|_| ()))
    }

    /// Deletes every property of the app's users and their history (a
    /// bench dataset made by another generator, an earlier run's ingest), a
    /// chunk at a time; how many rows went.
    pub async fn delete_app_properties(&self, app_id: i64) -> StoreResult<u64> {
        let values = "DELETE FROM user_properties WHERE (user_id, name) IN
                      (SELECT user_id, name FROM user_properties WHERE app_id = $1 LIMIT 100000)";
        let history = "DELETE FROM property_changes WHERE (user_id, id) IN (SELECT c.user_id, c.id FROM users u
                       JOIN property_changes c ON c.user_id = u.id WHERE u.app_id = $1 LIMIT 100000)";
        let mut deleted = 0;
        for sql in [values, history] {
            loop {
                let n: u64 = with_pool!(self, |pool| sqlx::query(sql)
                    .bind(app_id)
                    .execute(pool)
                    .await
                    .map(|r| r.rows_affected()))?;
                deleted += n;
                if n == 0 {
                    break;
                }
            }
        }
        Ok(deleted)
    }

    /// Inserts memberships `(segment_id, user_id, added_at)` (new pairs only).
    pub async fn bulk_insert_memberships(&self, members: &[(i64, i64, i64)], added_by: &str) -> StoreResult<()> {
        const COLUMNS: &[&str] = &["segment_id", "user_id", "added_by", "added_at"];
        let rows: Vec<Vec<Cell>> = members
            .iter()
            .map(|&(segment, user, at)| vec![segment.into(), user.into(), added_by.into(), at.into()])
            .collect();
        write_tx!(self, |tx| tx.bulk_load("segment_members", COLUMNS, &rows).await.map(|_| ()))
    }

    /// Inserts messages `(user_id, title, body, created_at)` sent from the
    /// console, then a "delivered" row for each device of their users.
    pub async fn bulk_insert_delivered_messages(
        &self,
        app_id: i64,
        messages: &[(i64, String, String, i64)],
    ) -> StoreResult<()> {
        const COLUMNS: &[&str] = &["app_id", "user_id", "title", "body", "source", "sender", "created_at"];
        let rows: Vec<Vec<Cell>> = messages
            .iter()
            .map(|(user, title, body, at)| {
                let (title, body) = (title.as_str(), body.as_str());
                vec![
                    app_id.into(),
                    (*user).into(),
                    title.into(),
                    body.into(),
                    "dashboard".into(),
                    "bench@example.com".into(),
                    (*at).into(),
                ]
            })
            .collect();
        let deliver = "INSERT INTO message_deliveries (message_id, device_id, status, updated_at, delivered_at)
                       SELECT m.id, d.id, 'delivered', m.created_at, m.created_at
                       FROM messages m JOIN devices d ON d.user_id = m.user_id
                       WHERE m.app_id = $1 AND m.id > $2";
        write_tx!(self, |tx| {
            let last: Option<i64> = crate::store::tx::with_tx!(tx, |conn| sqlx::query_scalar(
                "SELECT MAX(id) FROM messages WHERE app_id = $1"
            )
            .bind(app_id)
            .fetch_one(&mut *conn)
            .await)?;
            tx.bulk_load("messages", COLUMNS, &rows).await?;
            crate::store::tx::with_tx!(tx, |conn| sqlx::query(deliver)
                .bind(app_id)
                .bind(last.unwrap_or(0))
                .execute(&mut *conn)
                .await
                .map(|_| ()))?;
            Ok(())
        })
    }
}
