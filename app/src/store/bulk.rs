//! Bulk loading for benchmarks and imports: many users per statement
//! (multi-row VALUES; only placeholders are generated, values are bound).

use super::user_search::{search_tokens, sort_name};
use super::{with_pool, Store, StoreResult};

/// A user to bulk-insert.
#[derive(Debug, Clone)]
pub struct BulkUser {
    pub external_id: String,
    pub user_name: Option<String>,
    pub email: Option<String>,
    pub created_at: i64,
    pub last_seen_at: Option<i64>,
}

/// "($1, $2, …), ($n, …)" for `rows` rows of `columns` placeholders.
fn values(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=columns).map(|c| format!("${}", r * columns + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

const USERS_PER_STATEMENT: usize = 500;
const TOKENS_PER_STATEMENT: usize = 2000;

impl Store {
    /// Inserts new users (their external ids must not exist yet) with their
    /// sort keys and search tokens, in one transaction.
    pub async fn bulk_insert_users(&self, app_id: i64, users: &[BulkUser]) -> StoreResult<()> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            for chunk in users.chunks(USERS_PER_STATEMENT) {
                let sql = format!(
                    "INSERT INTO users (app_id, external_id, user_name, email, active, created_at, updated_at, \
                     last_seen_at, sort_name) VALUES {} RETURNING id",
                    values(chunk.len(), 9)
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
                let ids = query.fetch_all(&mut *tx).await?;
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
                        values(tokens.len(), 5)
                    );
                    let mut query = sqlx::query(&sql);
                    for (token, id, name, created_at) in tokens {
                        query = query.bind(app_id).bind(token).bind(id).bind(name).bind(created_at);
                    }
                    query.execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders() {
        assert_eq!(super::values(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
