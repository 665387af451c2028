//! userIDs of merged users (aliases): every write that names a user by
//! userID looks here for a name that is no user's, and writes to the kept
//! user instead. Only names not found among the users are looked up, so
//! writes naming users directly cost nothing more.

use std::collections::HashMap;

use super::{with_pool, with_tx, Store, StoreResult, WriteTx};
use crate::model::UserSummary;

impl WriteTx {
    /// The kept users of those of `names` that are aliases: alias → (the
    /// user's id, its userID). On PostgreSQL the users are locked as a
    /// foreign key's check would (`FOR KEY SHARE`), as the look-up of a
    /// user by its own userID is (`events.rs`).
    pub(crate) async fn alias_targets(
        &mut self,
        app_id: i64,
        names: &[&str],
    ) -> StoreResult<HashMap<String, (i64, String)>> {
        if names.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(String, i64, String)> = if self.is_postgres() {
            let sql = "SELECT a.external_id, u.id, u.external_id FROM unnest($2::text[]) AS n(name)
                       JOIN user_aliases a ON a.app_id = $1 AND a.external_id = n.name
                       JOIN users u ON u.id = a.user_id FOR KEY SHARE OF u";
            sqlx::query_as(sql).bind(app_id).bind(names).fetch_all(&mut **self.postgres()?).await?
        } else {
            let sql = "SELECT a.external_id, u.id, u.external_id FROM user_aliases a JOIN users u ON u.id = a.user_id
                       WHERE a.app_id = $1 AND a.external_id IN (SELECT value FROM json_each($2))";
            let names = serde_json::to_string(names).unwrap_or_else(|_| "[]".into());
            with_tx!(self, |conn| sqlx::query_as(sql).bind(app_id).bind(&names).fetch_all(&mut *conn).await)?
        };
        Ok(rows.into_iter().map(|(alias, id, external_id)| (alias, (id, external_id))).collect())
    }

    /// The userID writes to `external_id` go to: the kept user's when it is
    /// an alias, else itself.
    pub(crate) async fn canonical_external_id(&mut self, app_id: i64, external_id: &str) -> StoreResult<String> {
        let mut found = self.alias_targets(app_id, &[external_id]).await?;
        Ok(found.remove(external_id).map_or_else(|| external_id.to_string(), |(_, kept)| kept))
    }
}

impl Store {
    /// The user `external_id` names: its own, or the kept user of a merge
    /// it was merged by.
    pub async fn user_by_external_id_or_alias(
        &self,
        app_id: i64,
        external_id: &str,
    ) -> StoreResult<Option<UserSummary>> {
        if let Some(user) = self.user_by_external_id(app_id, external_id).await? {
            return Ok(Some(user));
        }
        match self.alias_of(app_id, external_id).await? {
            Some(id) => self.user_by_id(app_id, id).await,
            None => Ok(None),
        }
    }

    /// The user an alias names, if `external_id` is one.
    pub async fn alias_of(&self, app_id: i64, external_id: &str) -> StoreResult<Option<i64>> {
        let sql = "SELECT user_id FROM user_aliases WHERE app_id = $1 AND external_id = $2";
        Ok(with_pool!(self, |pool| sqlx::query_scalar(sql).bind(app_id).bind(external_id).fetch_optional(pool).await)?)
    }
}
