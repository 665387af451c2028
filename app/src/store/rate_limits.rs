//! Rate limits kept in the database, so every server instance on it counts
//! the same requests (`auth::limits` uses them on PostgreSQL).

use super::{with_pool, Store, StoreResult};

/// One key's limit: a request every `period_us`, bursts of `burst`.
#[derive(Debug, Clone, Copy)]
pub struct SharedQuota {
    pub period_us: i64,
    pub burst: i64,
}

impl Store {
    /// Takes one request from `key`'s allowance at `now_us` (GCRA, in one
    /// atomic upsert): `Ok(None)` when allowed, `Ok(Some(wait_us))` when over.
    pub async fn take_rate_token(&self, key: &str, quota: SharedQuota, now_us: i64) -> StoreResult<Option<i64>> {
        let tolerance = quota.period_us * (quota.burst - 1);
        // tat = max(stored tat, now) + period, unless max(...) - now > tolerance.
        let take = "INSERT INTO rate_limits (key, tat) VALUES ($1, $2 + $3)
             ON CONFLICT (key) DO UPDATE
                SET tat = (CASE WHEN rate_limits.tat > $2 THEN rate_limits.tat ELSE $2 END) + $3
              WHERE (CASE WHEN rate_limits.tat > $2 THEN rate_limits.tat ELSE $2 END) - $2 <= $4
             RETURNING tat";
        let taken: Option<i64> = with_pool!(self, |pool| sqlx::query_scalar(take)
            .bind(key)
            .bind(now_us)
            .bind(quota.period_us)
            .bind(tolerance)
            .fetch_optional(pool)
            .await?);
        if taken.is_some() {
            return Ok(None);
        }
        let tat: i64 = with_pool!(self, |pool| sqlx::query_scalar("SELECT tat FROM rate_limits WHERE key = $1")
            .bind(key)
            .fetch_one(pool)
            .await?);
        Ok(Some((tat - now_us - tolerance).max(1)))
    }

    /// Drops keys whose allowance is full again (nothing to remember).
    pub async fn forget_rate_limits(&self, now_us: i64) -> StoreResult<u64> {
        with_pool!(self, |pool| Ok(sqlx::query("DELETE FROM rate_limits WHERE tat < $1")
            .bind(now_us)
            .execute(pool)
            .await?
            .rows_affected()))
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, super::Backend::Postgres(_))
    }
}
