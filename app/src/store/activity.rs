//! Reading events back as the profile shows them: by id (the live fan-out),
//! and a user's events after an id (a reconnecting stream's replay).

use super::{with_pool, Store, StoreResult};
use crate::activity::model::ActivityEvent;

/// The columns of an [`ActivityEvent`], over `events e LEFT JOIN devices d`.
macro_rules! activity_columns {
    () => {
        "e.id, e.app_id, e.user_id, e.event_type, e.device_id, COALESCE(d.device_string, d.platform) AS device_name, \
         e.occurred_at, e.data"
    };
}
pub(crate) use activity_columns;

/// Ids read per statement (one placeholder each).
const IDS_PER_READ: usize = 500;

impl Store {
    /// The events with these ids, in id order (the live fan-out reads the
    /// rows a commit notification names).
    pub async fn events_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<ActivityEvent>> {
        let mut events = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_READ) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                concat!(
                    "SELECT ",
                    activity_columns!(),
                    " FROM events e LEFT JOIN devices d ON d.id = e.device_id WHERE e.id IN ({}) ORDER BY e.id"
                ),
                marks.join(", ")
            );
            let rows: Vec<ActivityEvent> = with_pool!(self, |pool| {
                let mut q = sqlx::query_as(&sql);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.fetch_all(pool).await
            })?;
            events.extend(rows);
        }
        events.sort_by_key(|e| e.id);
        Ok(events)
    }

    /// Up to `limit` of one user's events with ids after `after_id`, in id
    /// order: what a stream that last saw `after_id` missed.
    pub async fn user_events_after(
        &self,
        app_id: i64,
        user_id: i64,
        after_id: i64,
        limit: i64,
    ) -> StoreResult<Vec<ActivityEvent>> {
        let sql = concat!(
            "SELECT ",
            activity_columns!(),
            " FROM events e LEFT JOIN devices d ON d.id = e.device_id
             WHERE e.user_id = $1 AND e.id > $2 AND e.app_id = $3 ORDER BY e.id LIMIT $4"
        );
        with_pool!(self, |pool| Ok(sqlx::query_as(sql)
            .bind(user_id)
            .bind(after_id)
            .bind(app_id)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    /// Up to `limit` ids of events of any app after `after_id`, in order:
    /// the live listener's catch-up after its connection came back.
    pub async fn event_ids_after(&self, after_id: i64, limit: i64) -> StoreResult<Vec<i64>> {
        let sql = "SELECT id FROM events WHERE id > $1 ORDER BY id LIMIT $2";
        with_pool!(self, |pool| Ok(sqlx::query_scalar(sql).bind(after_id).bind(limit).fetch_all(pool).await?))
    }

    /// The newest event id, 0 when there is none.
    pub async fn last_event_id(&self) -> StoreResult<i64> {
        let sql = "SELECT COALESCE(MAX(id), 0) FROM events";
        with_pool!(self, |pool| Ok(sqlx::query_scalar(sql).fetch_one(pool).await?))
    }
}
