//! Private messages to one user. Delivery tracking comes with the messages issue.

use super::{with_pool, Store, StoreResult};

/// A private message to store (already validated).
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub title: &'a str,
    pub body: &'a str,
    /// "dashboard", "push mail" or "api".
    pub source: &'a str,
    pub sender: &'a str,
    pub created_at: i64,
}

impl Store {
    pub async fn insert_message(&self, app_id: i64, user_id: i64, message: &NewMessage<'_>) -> StoreResult<i64> {
        let sql = "INSERT INTO messages (app_id, user_id, title, body, source, sender, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
        with_pool!(self, |pool| Ok(sqlx::query_scalar::<_, i64>(sql)
            .bind(app_id)
            .bind(user_id)
            .bind(message.title)
            .bind(message.body)
            .bind(message.source)
            .bind(message.sender)
            .bind(message.created_at)
            .fetch_one(pool)
            .await?))
    }
}
