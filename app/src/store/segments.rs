//! Segments and memberships. The segments issue builds the modal on these.

use super::{conflict_as, with_pool, Store, StoreResult};

impl Store {
    /// Creates a segment; names are unique per app regardless of case.
    pub async fn create_segment(&self, app_id: i64, name: &str, description: &str, now: i64) -> StoreResult<i64> {
        let sql = "INSERT INTO segments (app_id, name, description, created_at) VALUES ($1, $2, $3, $4) RETURNING id";
        with_pool!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
            .bind(app_id)
            .bind(name)
            .bind(description)
            .bind(now)
            .fetch_one(pool)
            .await
            .map_err(conflict_as(format!("a segment named '{name}'"))))
    }

    /// Adds users to a segment; users already in it stay as they were.
    pub async fn add_segment_members(
        &self,
        segment_id: i64,
        user_ids: &[i64],
        added_by: &str,
        now: i64,
    ) -> StoreResult<()> {
        let sql = "INSERT INTO segment_members (segment_id, user_id, added_by, added_at) VALUES ($1, $2, $3, $4)
                   ON CONFLICT (segment_id, user_id) DO NOTHING";
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            for user_id in user_ids {
                sqlx::query(sql).bind(segment_id).bind(user_id).bind(added_by).bind(now).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }
}
