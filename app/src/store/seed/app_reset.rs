//! Removing a bench app's users with what imports and bulk jobs gave them
//! (search keys, properties and their history, memberships, audit rows,
//! jobs), a chunk at a time: the jobs bench imports a million users into
//! an app of its own per run and removes the earlier run's.

use crate::store::{with_pool, Store, StoreResult};

impl Store {
    /// Deletes the app's users, their search keys, properties, history,
    /// memberships and audit rows, the app's segments and jobs, and then
    /// the app; how many rows went. For apps with no devices or events
    /// (bench apps filled by imports).
    pub async fn delete_imported_app(&self, app_id: i64) -> StoreResult<u64> {
        let mut deleted = self.delete_app_properties(app_id).await?;
        let statements = [
            "DELETE FROM job_blocks WHERE (job_id, last_seq) IN (SELECT j.job_id, j.last_seq
                 FROM jobs b JOIN job_blocks j ON j.job_id = b.id WHERE b.app_id = $1 LIMIT 100000)",
            "DELETE FROM segment_members WHERE (segment_id, user_id) IN (SELECT m.segment_id, m.user_id
                 FROM segments s JOIN segment_members m ON m.segment_id = s.id WHERE s.app_id = $1 LIMIT 100000)",
            "DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE app_id = $1 LIMIT 100000)",
            "DELETE FROM user_search WHERE (app_id, token, sort_name, user_id) IN
                 (SELECT app_id, token, sort_name, user_id FROM user_search WHERE app_id = $1 LIMIT 100000)",
            "DELETE FROM users WHERE id IN (SELECT id FROM users WHERE app_id = $1 LIMIT 100000)",
            "DELETE FROM segments WHERE id IN (SELECT id FROM segments WHERE app_id = $1 LIMIT 100000)",
            "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE app_id = $1 LIMIT 100000)",
        ];
        for sql in statements {
            loop {
                let n: u64 = with_pool!(self, |pool| sqlx::query(sql)
                    .bind(app_id)
                    .execute(pool)
                    .await
                    .map(|r| r.rows_affected()))?;
                deleted += n;
                if n == 0 {
                    break;
                }
            }
        }
        let app = "DELETE FROM apps WHERE id = $1";
        deleted +=
            with_pool!(self, |pool| sqlx::query(app).bind(app_id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(deleted)
    }
}
