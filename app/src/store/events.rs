//! Activity events. Ingest is idempotent on the client's event id.

use std::collections::HashMap;

use super::{with_pool, Store, StoreError, StoreResult};

/// One event as the ingest API accepts it (already validated).
#[derive(Debug, Clone, Default)]
pub struct EventInput {
    pub client_id: Option<String>,
    pub event_type: String,
    pub user_external_id: Option<String>,
    pub device_external_id: Option<String>,
    pub session_id: Option<String>,
    pub occurred_at: i64,
    /// The event's JSON payload, serialised.
    pub data: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EventsOutcome {
    pub accepted: u64,
    pub duplicates: u64,
}

impl Store {
    /// Stores a batch all-or-nothing. An event whose client id this app
    /// already has (or that repeats one earlier in the batch) is counted as a
    /// duplicate. A userID or deviceID the app does not know rejects the batch
    /// with `UnknownReference` naming the event's index. Users' last-seen and
    /// devices' last-active times move forward to the newest event.
    pub async fn insert_events(&self, app_id: i64, events: &[EventInput], now: i64) -> StoreResult<EventsOutcome> {
        let find_user = "SELECT id FROM users WHERE app_id = $1 AND external_id = $2";
        let find_device = "SELECT id, user_id FROM devices WHERE app_id = $1 AND external_id = $2";
        let insert = "INSERT INTO events (app_id, client_id, event_type, user_id, device_id, session_id,
                          occurred_at, data, received_at)
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                      ON CONFLICT (app_id, client_id) DO NOTHING";
        let touch_user = "UPDATE users SET last_seen_at = $1
                          WHERE id = $2 AND (last_seen_at IS NULL OR last_seen_at < $1)";
        let touch_device = "UPDATE devices SET last_active_at = $1 WHERE id = $2 AND last_active_at < $1";

        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let mut users: HashMap<&str, i64> = HashMap::new();
            // deviceID -> (device id, its user's id)
            let mut devices: HashMap<&str, (i64, Option<i64>)> = HashMap::new();
            let mut newest_user: HashMap<i64, i64> = HashMap::new();
            let mut newest_device: HashMap<i64, i64> = HashMap::new();
            let mut outcome = EventsOutcome::default();

            for (index, event) in events.iter().enumerate() {
                let unknown = |field: &str, value: &str| StoreError::UnknownReference {
                    field: format!("[{index}].{field}"),
                    value: value.to_string(),
                };
                let device = match event.device_external_id.as_deref() {
                    None => None,
                    Some(external) => Some(match devices.get(external) {
                        Some(found) => *found,
                        None => {
                            let found: (i64, Option<i64>) = sqlx::query_as(find_device)
                                .bind(app_id)
                                .bind(external)
                                .fetch_optional(&mut *tx)
                                .await?
                                .ok_or_else(|| unknown("deviceID", external))?;
                            devices.insert(external, found);
                            found
                        }
                    }),
                };
                let user_id = match event.user_external_id.as_deref() {
                    // An event from a device belongs to the device's user.
                    None => device.and_then(|(_, user)| user),
                    Some(external) => Some(match users.get(external) {
                        Some(id) => *id,
                        None => {
                            let id: i64 = sqlx::query_scalar(find_user)
                                .bind(app_id)
                                .bind(external)
                                .fetch_optional(&mut *tx)
                                .await?
                                .ok_or_else(|| unknown("userID", external))?;
                            users.insert(external, id);
                            id
                        }
                    }),
                };
                let device_id = device.map(|(id, _)| id);

                let inserted = sqlx::query(insert)
                    .bind(app_id)
                    .bind(&event.client_id)
                    .bind(&event.event_type)
                    .bind(user_id)
                    .bind(device_id)
                    .bind(&event.session_id)
                    .bind(event.occurred_at)
                    .bind(&event.data)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if inserted == 0 {
                    outcome.duplicates += 1;
                    continue;
                }
                outcome.accepted += 1;
                if let Some(id) = user_id {
                    let newest = newest_user.entry(id).or_insert(event.occurred_at);
                    *newest = (*newest).max(event.occurred_at);
                }
                if let Some(id) = device_id {
                    let newest = newest_device.entry(id).or_insert(event.occurred_at);
                    *newest = (*newest).max(event.occurred_at);
                }
            }
            for (id, at) in newest_user {
                sqlx::query(touch_user).bind(at).bind(id).execute(&mut *tx).await?;
            }
            for (id, at) in newest_device {
                sqlx::query(touch_device).bind(at).bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(outcome)
        })
    }

    /// Number of stored events of an app (tests and the demo report).
    pub async fn count_events(&self, app_id: i64) -> StoreResult<i64> {
        let sql = "SELECT COUNT(*) FROM events WHERE app_id = $1";
        with_pool!(self, |pool| Ok(sqlx::query_scalar::<_, i64>(sql).bind(app_id).fetch_one(pool).await?))
    }
}
