//! Bulk loading for benchmarks and imports: many users per statement
//! (multi-row VALUES; only placeholders are generated, values are bound).

use super::bulk_load::Cell;
use crate::store::event_hours::{Change, HourCounts};
use crate::store::user_list::index::SearchRows;
use crate::store::user_list::search::IndexKeys;
use crate::store::{with_tx, write_tx, Store, StoreResult, WriteTx};

/// A user to bulk-insert.
#[derive(Debug, Clone)]
pub struct BulkUser {
    pub external_id: String,
    pub user_name: Option<String>,
    pub email: Option<String>,
    pub created_at: i64,
    pub last_seen_at: Option<i64>,
}

const USERS_PER_STATEMENT: usize = 500;

impl Store {
    /// Inserts new users (their external ids must not exist yet) with their
    /// sort keys and search tokens, in one transaction.
    pub async fn bulk_insert_users(&self, app_id: i64, users: &[BulkUser]) -> StoreResult<()> {
        write_tx!(self, |tx| tx.bulk_insert_users(app_id, users).await)
    }
}

impl WriteTx {
    /// See [`Store::bulk_insert_users`].
    pub async fn bulk_insert_users(&mut self, app_id: i64, users: &[BulkUser]) -> StoreResult<()> {
        let marks = self.marks();
        for chunk in users.chunks(USERS_PER_STATEMENT) {
            let keys: Vec<IndexKeys> = chunk
                .iter()
                .map(|u| IndexKeys::of(&u.external_id, u.user_name.as_deref(), u.email.as_deref()))
                .collect();
            let sql = format!(
                "INSERT INTO users (app_id, external_id, user_name, email, active, created_at, updated_at, \
                 last_seen_at, sort_name, search_tokens) VALUES {} RETURNING id",
                marks.values(chunk.len(), 10)
            );
            let ids = with_tx!(self, |conn| {
                let mut query = sqlx::query_scalar::<_, i64>(&sql);
                for (user, keys) in chunk.iter().zip(&keys) {
                    query = query
                        .bind(app_id)
                        .bind(&user.external_id)
                        .bind(&user.user_name)
                        .bind(&user.email)
                        .bind(true)
                        .bind(user.created_at)
                        .bind(user.created_at)
                        .bind(user.last_seen_at)
                        .bind(&keys.sort_name)
                        .bind(keys.listed());
                }
                query.fetch_all(&mut *conn).await
            })?;
            let rows: Vec<SearchRows> = chunk
                .iter()
                .zip(ids)
                .zip(keys)
                .map(|((user, user_id), keys)| SearchRows { app_id, user_id, created_at: user.created_at, keys })
                .collect();
            self.insert_search_rows(&rows).await?;
        }
        Ok(())
    }
}

/// An event to bulk-insert, its references already resolved.
#[derive(Debug, Clone)]
pub struct BulkEvent {
    pub event_type: String,
    pub user_id: Option<i64>,
    pub device_id: Option<i64>,
    pub occurred_at: i64,
    pub data: Option<String>,
}

impl Store {
    /// Inserts events as given (no client ids, no last-seen update), in one
    /// transaction (`COPY` on PostgreSQL): for seeding benchmarks.
    pub async fn bulk_insert_events(&self, app_id: i64, events: &[BulkEvent], now: i64) -> StoreResult<()> {
        write_tx!(self, |tx| tx.bulk_insert_events(app_id, events, now).await)
    }
}

impl WriteTx {
    /// See [`Store::bulk_insert_events`].
    pub async fn bulk_insert_events(&mut self, app_id: i64, events: &[BulkEvent], now: i64) -> StoreResult<()> {
        const COLUMNS: &[&str] =
            &["app_id", "event_type", "user_id", "device_id", "occurred_at", "data", "received_at"];
        let rows: Vec<Vec<Cell>> = events
            .iter()
            .map(|e| {
                vec![
                    app_id.into(),
                    e.event_type.as_str().into(),
                    e.user_id.into(),
                    e.device_id.into(),
                    e.occurred_at.into(),
                    e.data.clone().into(),
                    now.into(),
                ]
            })
            .collect();
        self.bulk_load("events", COLUMNS, &rows).await?;
        let hours: HourCounts = events.iter().filter_map(|e| e.user_id.map(|user| (user, e.occurred_at))).collect();
        self.change_event_hours(app_id, &hours, Change::Stored).await
    }
}
