//! Per-device delivery of private messages: queued when a message is sent
//! (one row per active device of its user), delivered when the device reads
//! its inbox through the ingest API, opened when the device says so.

use super::tx::TxInner;
use super::{with_pool, with_tx, write_tx, Store, StoreResult, WriteTx};
use crate::model::messages::{Delivery, DeliveryStatus};
use crate::model::profile::BoxChanged;

/// A message as a device's inbox lists it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct InboxMessage {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub source: String,
    pub sender: String,
    pub created_at: i64,
    #[sqlx(try_from = "String")]
    pub status: DeliveryStatus,
    pub delivered_at: Option<i64>,
    pub opened_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    message_id: i64,
    device_id: i64,
    device_name: String,
    #[sqlx(try_from = "String")]
    status: DeliveryStatus,
    delivered_at: Option<i64>,
    opened_at: Option<i64>,
}

/// What opening a message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// Marked opened now (the message is this user's).
    Now { user_id: i64 },
    /// It was opened before (opening is idempotent).
    Already,
    /// No such message on this device.
    NotFound,
}

impl Store {
    /// The device's inbox, unread (not opened) first, then newest, up to
    /// `limit`; the queued ones among them are marked delivered in the same
    /// transaction. Also returns the device's user (whose stream to tell).
    pub async fn read_inbox(
        &self,
        app_id: i64,
        device_id: i64,
        limit: i64,
        now: i64,
    ) -> StoreResult<(Vec<InboxMessage>, Option<i64>)> {
        let read = "SELECT m.id, m.title, m.body, m.source, m.sender, m.created_at, md.status, md.delivered_at,
                           md.opened_at
                    FROM message_deliveries md JOIN messages m ON m.id = md.message_id
                    WHERE md.device_id = $1 AND m.app_id = $2
                    ORDER BY CASE WHEN md.status = 'opened' THEN 1 ELSE 0 END, m.created_at DESC, m.id DESC
                    LIMIT $3";
        let mark = "UPDATE message_deliveries SET status = 'delivered', delivered_at = $2, updated_at = $2
                    WHERE device_id = $1 AND status = 'queued'";
        let owner = "SELECT user_id FROM devices WHERE id = $1 AND app_id = $2";
        write_tx!(self, |tx| {
            let mut messages: Vec<InboxMessage> = with_tx!(tx, |conn| sqlx::query_as(read)
                .bind(device_id)
                .bind(app_id)
                .bind(limit)
                .fetch_all(&mut *conn)
                .await)?;
            // The queued ones among them become delivered, in one statement.
            let queued: Vec<i64> =
                messages.iter().filter(|m| m.status == DeliveryStatus::Queued).map(|m| m.id).collect();
            let changed = !queued.is_empty();
            if changed {
                let marks: Vec<String> = (3..queued.len() + 3).map(|i| format!("${i}")).collect();
                let mark = format!("{mark} AND message_id IN ({})", marks.join(", "));
                with_tx!(tx, |conn| {
                    let mut query = sqlx::query(&mark).bind(device_id).bind(now);
                    for id in &queued {
                        query = query.bind(*id);
                    }
                    query.execute(&mut *conn).await.map(|done| done.rows_affected())
                })?;
                for message in messages.iter_mut().filter(|m| m.status == DeliveryStatus::Queued) {
                    message.status = DeliveryStatus::Delivered;
                    message.delivered_at = Some(now);
                }
            }
            let user: Option<i64> = with_tx!(tx, |conn| sqlx::query_scalar(owner)
                .bind(device_id)
                .bind(app_id)
                .fetch_optional(&mut *conn)
                .await)?
            .flatten();
            let told = match (changed, user) {
                (true, Some(user)) => {
                    tx.notify_changed(BoxChanged::Messages, app_id, user).await?;
                    Some(user)
                }
                _ => None,
            };
            Ok((messages, told))
        })
    }

    /// Marks a message opened on a device (and delivered, if it was not).
    pub async fn open_message(&self, app_id: i64, device_id: i64, message_id: i64, now: i64) -> StoreResult<Opened> {
        let open = "UPDATE message_deliveries
                    SET status = 'opened', opened_at = $3, delivered_at = COALESCE(delivered_at, $3), updated_at = $3
                    WHERE device_id = $1 AND message_id = $2 AND status <> 'opened'
                      AND EXISTS (SELECT 1 FROM messages m WHERE m.id = $2 AND m.app_id = $4)";
        let found = "SELECT m.user_id FROM message_deliveries md JOIN messages m ON m.id = md.message_id
                     WHERE md.device_id = $1 AND md.message_id = $2 AND m.app_id = $3";
        write_tx!(self, |tx| {
            let changed = with_tx!(tx, |conn| sqlx::query(open)
                .bind(device_id)
                .bind(message_id)
                .bind(now)
                .bind(app_id)
                .execute(&mut *conn)
                .await
                .map(|done| done.rows_affected()))?;
            let user: Option<i64> = with_tx!(tx, |conn| sqlx::query_scalar(found)
                .bind(device_id)
                .bind(message_id)
                .bind(app_id)
                .fetch_optional(&mut *conn)
                .await)?;
            Ok(match (user, changed) {
                (None, _) => Opened::NotFound,
                (Some(_), 0) => Opened::Already,
                (Some(user_id), _) => {
                    tx.notify_changed(BoxChanged::Messages, app_id, user_id).await?;
                    Opened::Now { user_id }
                }
            })
        })
    }

    /// The deliveries of these messages, by message id.
    pub(crate) async fn deliveries_of(&self, message_ids: &[i64]) -> StoreResult<Vec<(i64, Delivery)>> {
        if message_ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=message_ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT md.message_id, md.device_id, COALESCE(d.device_string, d.platform) AS device_name, md.status,
                    md.delivered_at, md.opened_at
             FROM message_deliveries md JOIN devices d ON d.id = md.device_id
             WHERE md.message_id IN ({}) ORDER BY md.message_id, d.id",
            marks.join(", ")
        );
        let rows: Vec<DeliveryRow> = with_pool!(self, |pool| {
            let mut query = sqlx::query_as(&sql);
            for id in message_ids {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await
        })?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let delivery = Delivery {
                    device_id: r.device_id,
                    device_name: r.device_name,
                    status: r.status,
                    delivered_at: r.delivered_at,
                    opened_at: r.opened_at,
                };
                (r.message_id, delivery)
            })
            .collect())
    }
}

impl WriteTx {
    /// Queues `message_id` for every device of its user (an active user's);
    /// returns how many.
    pub(crate) async fn queue_deliveries(
        &mut self,
        app_id: i64,
        user_id: i64,
        message_id: i64,
        now: i64,
    ) -> StoreResult<u64> {
        let sql = "INSERT INTO message_deliveries (message_id, device_id, status, updated_at)
                   SELECT $1, d.id, 'queued', $2 FROM devices d JOIN users u ON u.id = d.user_id
                   WHERE d.app_id = $3 AND d.user_id = $4 AND u.active";
        let queued = with_tx!(self, |conn| sqlx::query(sql)
            .bind(message_id)
            .bind(now)
            .bind(app_id)
            .bind(user_id)
            .execute(&mut *conn)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(queued)
    }

    /// PostgreSQL: announces a change to one of the user's profile boxes
    /// to every instance (`<box>:<app id>:<user id>` on the live channel's
    /// NOTIFY channel), delivered when (and only if) this transaction
    /// commits. SQLite: the caller tells the hub after the commit.
    pub(crate) async fn notify_changed(&mut self, what: BoxChanged, app_id: i64, user_id: i64) -> StoreResult<()> {
        let TxInner::Postgres(tx) = &mut self.inner else { return Ok(()) };
        let sql = "SELECT pg_notify('audience_events_' || current_schema(), $1)";
        sqlx::query(sql).bind(format!("{}:{app_id}:{user_id}", what.name())).execute(&mut **tx).await?;
        Ok(())
    }
}
