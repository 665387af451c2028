//! Private messages to one user; their per-device deliveries are in `deliveries`.

use super::{with_pool, with_tx, write_tx, NewAudit, Store, StoreResult, WriteTx};
use crate::model::{Attachment, MessageSummary};

/// How much of a body the messages list carries.
pub const PREVIEW_CHARS: usize = 500;

/// A private message to store (already validated).
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub title: &'a str,
    pub body: &'a str,
    /// "dashboard", "push mail" or "api".
    pub source: &'a str,
    pub sender: &'a str,
    /// The SMTP envelope sender (`MAIL FROM`), apart from the From header.
    pub envelope_sender: Option<&'a str>,
    pub created_at: i64,
    pub attachments: &'a [Attachment],
}

/// A stored message and whose it is (whose live stream to tell).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredMessage {
    pub id: i64,
    pub app_id: i64,
    pub user_id: i64,
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

    /// Stores `message` for the active user of each Push Mail token in
    /// `tokens`, with an audit row each, all in one transaction; returns the
    /// new messages' ids. The token is resolved by the INSERT itself, so a
    /// token revoked a moment before gets no message (and no error).
    pub async fn deliver_push_mail(
        &self,
        tokens: &[String],
        message: &NewMessage<'_>,
    ) -> StoreResult<Vec<StoredMessage>> {
        let detail = match message.envelope_sender {
            Some(envelope) => format!("\"{}\" from envelope sender <{envelope}>", message.title),
            None => format!("\"{}\" by the inbound mail webhook", message.title),
        };
        write_tx!(self, |tx| {
            let mut ids = Vec::new();
            for token in tokens {
                let Some((id, app_id, user_id)) = tx.insert_message_for_token(token, message).await? else { continue };
                let audit = NewAudit::on_user(app_id, user_id, "push mail", "push mail received").with_detail(&detail);
                tx.record_audit(&audit, message.created_at).await?;
                ids.push(StoredMessage { id, app_id, user_id });
            }
            Ok(ids)
        })
    }

    /// A user's private messages, newest first, each with the first
    /// [`PREVIEW_CHARS`] characters of its body (a body can be megabytes;
    /// [`Store::message_body`] reads it whole).
    pub async fn list_messages(&self, app_id: i64, user_id: i64, limit: i64) -> StoreResult<Vec<MessageSummary>> {
        let sql = "SELECT id, title, substr(body, 1, $4) AS body, source, sender, created_at, attachments FROM messages
                   WHERE app_id = $1 AND user_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3";
        let rows = with_pool!(self, |pool| sqlx::query_as::<_, MessageRow>(sql)
            .bind(app_id)
            .bind(user_id)
            .bind(limit)
            .bind(PREVIEW_CHARS as i32 + 1)
            .fetch_all(pool)
            .await)?;
        let mut messages = rows
            .into_iter()
            .map(|row| {
                let truncated = row.body.chars().count() > PREVIEW_CHARS;
                let preview = if truncated { row.body.chars().take(PREVIEW_CHARS).collect() } else { row.body };
                Ok(MessageSummary {
                    id: row.id,
                    title: row.title,
                    preview,
                    truncated,
                    source: row.source,
                    sender: row.sender,
                    created_at: row.created_at,
                    attachments: serde_json::from_str(&row.attachments)?,
                    deliveries: Vec::new(),
                })
            })
            .collect::<StoreResult<Vec<MessageSummary>>>()?;
        let ids: Vec<i64> = messages.iter().map(|m| m.id).collect();
        for (message_id, delivery) in self.deliveries_of(&ids).await? {
            if let Some(message) = messages.iter_mut().find(|m| m.id == message_id) {
                message.deliveries.push(delivery);
            }
        }
        Ok(messages)
    }

    /// The whole body of one of a user's messages.
    pub async fn message_body(&self, app_id: i64, user_id: i64, message_id: i64) -> StoreResult<Option<String>> {
        let sql = "SELECT body FROM messages WHERE app_id = $1 AND user_id = $2 AND id = $3";
        with_pool!(self, |pool| Ok(sqlx::query_scalar::<_, String>(sql)
            .bind(app_id)
            .bind(user_id)
            .bind(message_id)
            .fetch_optional(pool)
            .await?))
    }
}

impl WriteTx {
    /// Stores a message, queues it for each of the user's devices and (on
    /// PostgreSQL) announces it on the live channel at commit.
    pub async fn insert_message(&mut self, app_id: i64, user_id: i64, message: &NewMessage<'_>) -> StoreResult<i64> {
        let id = self.insert_message_row(app_id, user_id, message).await?;
        self.queue_deliveries(app_id, user_id, id, message.created_at).await?;
        self.notify_changed(crate::model::profile::BoxChanged::Messages, app_id, user_id).await?;
        Ok(id)
    }

    async fn insert_message_row(&mut self, app_id: i64, user_id: i64, message: &NewMessage<'_>) -> StoreResult<i64> {
        let sql = "INSERT INTO messages (app_id, user_id, title, body, source, sender, envelope_sender,
                       created_at, attachments)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
        let attachments = serde_json::to_string(message.attachments)?;
        with_tx!(self, |conn| Ok(sqlx::query_scalar::<_, i64>(sql)
            .bind(app_id)
            .bind(user_id)
            .bind(message.title)
            .bind(message.body)
            .bind(message.source)
            .bind(message.sender)
            .bind(message.envelope_sender)
            .bind(message.created_at)
            .bind(&attachments)
            .fetch_one(&mut *conn)
            .await?))
    }

    /// Inserts `message` for the active user whose Push Mail token is
    /// `token`, in one statement; `(message id, app id, user id)`, or None
    /// when no live user has the token.
    pub async fn insert_message_for_token(
        &mut self,
        token: &str,
        message: &NewMessage<'_>,
    ) -> StoreResult<Option<(i64, i64, i64)>> {
        let sql = "INSERT INTO messages (app_id, user_id, title, body, source, sender, envelope_sender,
                       created_at, attachments)
                   SELECT app_id, id, $2, $3, $4, $5, $6, $7, $8 FROM users WHERE push_token = $1 AND active
                   RETURNING id, app_id, user_id";
        let attachments = serde_json::to_string(message.attachments)?;
        let inserted: Option<(i64, i64, i64)> = with_tx!(self, |conn| sqlx::query_as(sql)
            .bind(token)
            .bind(message.title)
            .bind(message.body)
            .bind(message.source)
            .bind(message.sender)
            .bind(message.envelope_sender)
            .bind(message.created_at)
            .bind(&attachments)
            .fetch_optional(&mut *conn)
            .await)?;
        if let Some((id, app_id, user_id)) = inserted {
            self.queue_deliveries(app_id, user_id, id, message.created_at).await?;
            self.notify_changed(crate::model::profile::BoxChanged::Messages, app_id, user_id).await?;
        }
        Ok(inserted)
    }
}
