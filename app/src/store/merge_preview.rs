//! What a merge would move, counted before it is asked for (the console's
//! preview).

use super::merges::MOVED_BY_ID;
use super::{with_pool, MergeCounts, Store, StoreResult};

impl Store {
    /// The rows of `user_id` a merge would move, by kind.
    pub async fn merge_counts(&self, app_id: i64, user_id: i64) -> StoreResult<MergeCounts> {
        let count = |sql: String| async move {
            let n: i64 =
                with_pool!(self, |pool| sqlx::query_scalar(&sql).bind(user_id).bind(app_id).fetch_one(pool).await)?;
            StoreResult::Ok(n)
        };
        let mut counts = MergeCounts::default();
        for table in MOVED_BY_ID.iter().filter(|t| **t != "audit") {
            // Table names from the list, never input.
            let n = count(format!("SELECT COUNT(*) FROM {table} WHERE user_id = $1 AND app_id = $2")).await?;
            match *table {
                "devices" => counts.devices = n,
                "messages" => counts.messages = n,
                "notes" => counts.notes = n,
                _ => counts.property_changes = n,
            }
        }
        counts.events = count("SELECT COUNT(*) FROM events WHERE app_id = $2 AND user_id = $1".into()).await?;
        counts.segments = count(
            "SELECT COUNT(*) FROM segment_members m JOIN segments s ON s.id = m.segment_id
             WHERE m.user_id = $1 AND s.app_id = $2"
                .into(),
        )
        .await?;
        counts.properties =
            count("SELECT COUNT(*) FROM user_properties WHERE user_id = $1 AND app_id = $2".into()).await?;
        Ok(counts)
    }
}
