//! Customer apps and their API keys (only a hash of the key is stored).

use super::{conflict_as, with_pool, with_tx, write_tx, Store, StoreError, StoreResult, WriteTx};
use crate::model::AppInfo;

impl Store {
    pub async fn create_app(&self, name: &str, api_key_hash: &str, now: i64) -> StoreResult<AppInfo> {
        write_tx!(self, |tx| tx.create_app(name, api_key_hash, now).await)
    }

    pub async fn app_by_key_hash(&self, api_key_hash: &str) -> StoreResult<Option<AppInfo>> {
        let sql = "SELECT id, name, created_at FROM apps WHERE api_key_hash = $1";
        with_pool!(self, |pool| Ok(sqlx::query_as::<_, AppInfo>(sql).bind(api_key_hash).fetch_optional(pool).await?))
    }

    /// Looks an app up by name, ignoring case (names are unique that way).
    pub async fn app_by_name(&self, name: &str) -> StoreResult<Option<AppInfo>> {
        let sql = "SELECT id, name, created_at FROM apps WHERE lower(name) = lower($1)";
        with_pool!(self, |pool| Ok(sqlx::query_as::<_, AppInfo>(sql).bind(name).fetch_optional(pool).await?))
    }

    /// All apps, oldest first.
    pub async fn list_apps(&self) -> StoreResult<Vec<AppInfo>> {
        let sql = "SELECT id, name, created_at FROM apps ORDER BY id";
        with_pool!(self, |pool| Ok(sqlx::query_as::<_, AppInfo>(sql).fetch_all(pool).await?))
    }

    /// Replaces an app's key hash: the old key stops working with this commit.
    pub async fn set_app_key_hash(&self, app_id: i64, api_key_hash: &str) -> StoreResult<()> {
        write_tx!(self, |tx| tx.set_app_key_hash(app_id, api_key_hash).await)
    }
}

impl WriteTx {
    pub async fn create_app(&mut self, name: &str, api_key_hash: &str, now: i64) -> StoreResult<AppInfo> {
        let sql = "INSERT INTO apps (name, api_key_hash, created_at) VALUES ($1, $2, $3)
                   RETURNING id, name, created_at";
        with_tx!(self, |conn| sqlx::query_as::<_, AppInfo>(sql)
            .bind(name)
            .bind(api_key_hash)
            .bind(now)
            .fetch_one(&mut *conn)
            .await
            .map_err(conflict_as(format!("an app named '{name}'"))))
    }

    pub async fn set_app_key_hash(&mut self, app_id: i64, api_key_hash: &str) -> StoreResult<()> {
        let sql = "UPDATE apps SET api_key_hash = $1 WHERE id = $2";
        let result = with_tx!(self, |conn| sqlx::query(sql)
            .bind(api_key_hash)
            .bind(app_id)
            .execute(&mut *conn)
            .await?
            .rows_affected());
        if result == 0 {
            return Err(StoreError::NotFound("app"));
        }
        Ok(())
    }
}
