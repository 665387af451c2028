//! Private messages to one user. Delivery tracking comes with the messages issue.

use super::{with_pool, with_tx, write_tx, Store, StoreResult, WriteTx};
use crate::model::{Attachment, MessageSummary};

/// A private message to store (already validated).
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub title: &'a str,
    pub body: &'a str,
    /// "dashboard", "push mail" or "api".
    pub source: &'a str,
    pub sender: &'a str,
    pub created_at: i64,
    pub attachments: &'a [Attachment],
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: i64,
    title: String,
    body: String,
    source: String,
    sender: String,
    created_at: i64,
    attachments: String,
}

impl Store {
    pub async fn insert_message(&self, app_id: i64, user_id: i64, message: &NewMessage<'_>) -> StoreResult<i64> {
        write_tx!(self, |tx| tx.insert_message(app_id, user_id, message).await)
    }

    /// A user's private messages, newest first.
    pub async fn list_messages(&self, app_id: i64, user_id: i64, limit: i64) -> StoreResult<Vec<MessageSummary>> {
        let sql = "SELECT id, title, body, source, sender, created_at, attachments FROM messages
                   WHERE app_id = $1 AND user_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3";
        let rows = with_pool!(self, |pool| sqlx::query_as::<_, MessageRow>(sql)
            .bind(app_id)
            .bind(user_id)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|row| MessageSummary {
                id: row.id,
                title: row.title,
                body: row.body,
                source: row.source,
                sender: row.sender,
                created_at: row.created_at,
                attachments: serde_json::from_str(&row.attachments).unwrap_or_default(),
            })
            .collect())
    }
}

impl WriteTx {
    pub async fn insert_message(&mut self, app_id: i64, user_id: i64, message: &NewMessage<'_>) -> StoreResult<i64> {
        let sql = "INSERT INTO messages (app_id, user_id, title, body, source, sender, created_at, attachments)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
        let attachments = serde_json::to_string(message.attachments).unwrap_or_else(|_| "[]".into());
        with_tx!(self, |conn| Ok(sqlx::query_scalar::<_, i64>(sql)
            .bind(app_id)
            .bind(user_id)
            .bind(message.title)
            .bind(message.body)
            .bind(message.source)
            .bind(message.sender)
            .bind(message.created_at)
            .bind(&attachments)
            .fetch_one(&mut *conn)
            .await?))
    }
}
