//! Segments and memberships. The segments issue builds the modal on these.

use super::{conflict_as, with_tx, write_tx, Store, StoreResult, WriteTx};

impl Store {
    /// Creates a segment; names are unique per app regardless of case.
    pub async fn create_segment(&self, app_id: i64, name: &str, description: &str, now: i64) -> StoreResult<i64> {
        write_tx!(self, |tx| tx.create_segment(app_id, name, description, now).await)
    }

    /// Adds users to a segment; users already in it stay as they were.
    pub async fn add_segment_members(
        &self,
        segment_id: i64,
        user_ids: &[i64],
        added_by: &str,
        now: i64,
    ) -> StoreResult<()> {
        write_tx!(self, |tx| tx.add_segment_members(segment_id, user_ids, added_by, now).await)
    }
}

impl WriteTx {
    pub async fn create_segment(&mut self, app_id: i64, name: &str, description: &str, now: i64) -> StoreResult<i64> {
        let sql = "INSERT INTO segments (app_id, name, description, created_at) VALUES ($1, $2, $3, $4) RETURNING id";
        with_tx!(self, |conn| sqlx::query_scalar::<_, i64>(sql)
            .bind(app_id)
            .bind(name)
            .bind(description)
            .bind(now)
            .fetch_one(&mut *conn)
            .await
            .map_err(conflict_as(format!("a segment named '{name}'"))))
    }

    /// Adds users to a segment in user id order (one lock order for every
    /// writer); users already in it stay as they were.
    pub async fn add_segment_members(
        &mut self,
        segment_id: i64,
        user_ids: &[i64],
        added_by: &str,
        now: i64,
    ) -> StoreResult<()> {
        let sql = "INSERT INTO segment_members (segment_id, user_id, added_by, added_at) VALUES ($1, $2, $3, $4)
                   ON CONFLICT (segment_id, user_id) DO NOTHING";
        let mut sorted = user_ids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        with_tx!(self, |conn| {
            for user_id in sorted {
                sqlx::query(sql).bind(segment_id).bind(user_id).bind(added_by).bind(now).execute(&mut *conn).await?;
            }
        });
        Ok(())
    }
}
