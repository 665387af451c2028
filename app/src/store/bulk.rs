//! Bulk loading for benchmarks and imports: many users per statement
//! (multi-row VALUES; only placeholders are generated, values are bound).

use super::user_search::{search_tokens, sort_name};
use super::{with_tx, write_tx, Store, StoreResult, WriteTx};

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
const TOKENS_PER_STATEMENT: usize = 2000;

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
        with_tx!(self, |conn| {
            for chunk in users.chunks(USERS_PER_STATEMENT) {
                let sql = format!(
                    "INSERT INTO users (app_id, external_id, user_name, email, active, created_at, updated_at, \
                     last_seen_at, sort_name) VALUES {} RETURNING id",
                    marks.values(chunk.len(), 9)
                );
                let mut query = sqlx::query_scalar::<_, i64>(&sql);
                for user in chunk {
                    query = query
                        .bind(app_id)
                        .bind(&user.external_id)
                        .bind(&user.user_name)
                        .bind(&user.email)
                        .bind(true)
                        .bind(user.created_at)
                        .bind(user.created_at)
                        .bind(user.last_seen_at)
                        .bind(sort_name(&user.external_id, user.user_name.as_deref()));
                }
                let ids = query.fetch_all(&mut *conn).await?;
                // (token, user id, sort name, created)
                let tokens: Vec<(String, i64, String, i64)> = chunk
                    .iter()
                    .zip(ids)
                    .flat_map(|(user, id)| {
                        let name = sort_name(&user.external_id, user.user_name.as_deref());
                        search_tokens(&user.external_id, user.user_name.as_deref(), user.email.as_deref())
                            .into_iter()
                            .map(move |token| (token, id, name.clone(), user.created_at))
                    })
                    .collect();
                for tokens in tokens.chunks(TOKENS_PER_STATEMENT) {
                    let sql = format!(
                        "INSERT INTO user_search (app_id, token, user_id, sort_name, created_at) VALUES {}",
                        marks.values(tokens.len(), 5)
                    );
                    let mut query = sqlx::query(&sql);
                    for (token, id, name, created_at) in tokens {
                        query = query.bind(app_id).bind(token).bind(id).bind(name).bind(created_at);
                    }
                    query.execute(&mut *conn).await?;
                }
            }
            Ok(())
        })
    }
}
