//! userIDs of merged users (aliases): every write that names a user by
//! userID looks here for a name that is no user's, and writes to the kept
//! user instead. Only names not found among the users are looked up, so
//! writes naming users directly cost nothing more.
//!
//! While a merge into the kept user can be undone, the rows written through
//! an alias are noted (`alias_arrivals`): the undo moves them to the
//! restored user, the one the app named.

use std::collections::{BTreeMap, HashMap};

use super::batch::BindList;
use super::{with_pool, with_tx, Store, StoreError, StoreResult, WriteTx, UNDO_WINDOW_MS};
use crate::model::UserSummary;

/// A table whose rows the app writes naming a user by userID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrived {
    Events,
    Devices,
    Messages,
    /// Segment ids the user joined through the alias.
    Memberships,
}

impl Arrived {
    fn table(self) -> &'static str {
        match self {
            Arrived::Events => "events",
            Arrived::Devices => "devices",
            Arrived::Messages => "messages",
            Arrived::Memberships => "segment_members",
        }
    }
}

/// Row ids that arrived through aliases, per table.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Arrivals {
    pub events: Vec<i64>,
    pub devices: Vec<i64>,
    pub messages: Vec<i64>,
    /// Segment ids.
    pub memberships: Vec<i64>,
}

/// Look-ups of aliases tried while undos and merges keep changing them
/// meanwhile, before the write is refused as one to retry.
pub(super) const ALIAS_TRIES: usize = 5;

/// The refusal after [`ALIAS_TRIES`] look-ups: busy, a refusal the client
/// retries.
pub(super) fn aliases_kept_changing() -> StoreError {
    StoreError::Busy("userIDs kept changing (merges and undos) while they were looked up".into())
}

impl WriteTx {
    /// The kept users of those of `names` that are aliases: alias → (the
    /// user's id, its userID), the users locked as a foreign key's check
    /// would (`FOR KEY SHARE`) on PostgreSQL; or `None` when an alias changed while
    /// the look-up waited for its user's lock: the caller looks again.
    ///
    /// PostgreSQL re-checks only the rows a waiting statement locks. A
    /// look-up that waited for an undo holding the kept user would still
    /// follow the alias row the undo deleted, and the write meant for the
    /// restored user would land on the kept one; one that waited for a
    /// merge of the kept user into a third would find no alias at all.
    /// Once the kept user is locked no undo or merge can remove or repoint
    /// the aliases found, so a second read of `names`' aliases (a statement
    /// of its own, which sees what committed meanwhile) tells whether the
    /// first one still holds.
    pub(crate) async fn alias_targets_as_locked(
        &mut self,
        app_id: i64,
        names: &[&str],
    ) -> StoreResult<Option<HashMap<String, (i64, String)>>> {
        let found = self.alias_targets_at_once(app_id, names).await?;
        if !self.is_postgres() || names.is_empty() {
            // SQLite's one writer runs alone: nothing changes under it.
            return Ok(Some(found));
        }
        // Joined to the users as the look-up is, so that an alias whose user
        // row is gone counts as unknown in both rather than as a change.
        let sql = "SELECT a.external_id, a.user_id FROM user_aliases a JOIN users u ON u.id = a.user_id
                   WHERE a.app_id = $1 AND a.external_id = ANY($2)";
        let now: Vec<(String, i64)> =
            sqlx::query_as(sql).bind(app_id).bind(names).fetch_all(&mut **self.postgres()?).await?;
        let holds = now.len() == found.len()
            && now.iter().all(|(alias, user_id)| found.get(alias).is_some_and(|(id, _)| id == user_id));
        Ok(holds.then_some(found))
    }

    /// One look-up of `names`' aliases, locking the users they name.
    async fn alias_targets_at_once(
        &mut self,
        app_id: i64,
        names: &[&str],
    ) -> StoreResult<HashMap<String, (i64, String)>> {
        if names.is_empty() {
            return Ok(HashMap::new());
        }
        // PostgreSQL joins on the names (the aliases' index probed per
        // name) and locks the users found, as `events.rs` does.
        let sql = if self.is_postgres() {
            "SELECT a.external_id, u.id, u.external_id FROM unnest($2::text[]) AS n(name)
             JOIN user_aliases a ON a.app_id = $1 AND a.external_id = n.name
             JOIN users u ON u.id = a.user_id FOR KEY SHARE OF u"
        } else {
            "SELECT a.external_id, u.id, u.external_id FROM user_aliases a JOIN users u ON u.id = a.user_id
             WHERE a.app_id = $1 AND a.external_id IN (SELECT value FROM json_each($2))"
        };
        let rows: Vec<(String, i64, String)> =
            with_tx!(self, |conn| sqlx::query_as(sql).bind(app_id).bind_names(names).fetch_all(&mut *conn).await)?;
        Ok(rows.into_iter().map(|(alias, id, external_id)| (alias, (id, external_id))).collect())
    }

    /// The userID writes to `external_id` go to: the kept user's when it is
    /// an alias, else itself.
    pub(crate) async fn canonical_external_id(&mut self, app_id: i64, external_id: &str) -> StoreResult<String> {
        let mut found = self.kept_user_ids(app_id, &[external_id]).await?;
        Ok(found.remove(external_id).unwrap_or_else(|| external_id.to_string()))
    }

    /// Those of `names` that are merged userIDs, each with its kept user's
    /// userID, for a write that creates or updates users by userID.
    ///
    /// On PostgreSQL the users `names` name are locked first, as ingest's
    /// look-up locks them (`events.rs`). A write that names a user whose
    /// merge is in progress so waits for it, then finds the alias. Without
    /// the lock it would find no alias yet, and its insert would wait for
    /// the merged row's deletion and create the userID again beside its
    /// alias.
    pub(crate) async fn kept_user_ids(&mut self, app_id: i64, names: &[&str]) -> StoreResult<BTreeMap<String, String>> {
        if self.is_postgres() {
            return Ok(self.user_ids_and_aliases(app_id, names).await?.1);
        }
        // SQLite's one writer runs alone: no merge is in progress.
        let found = self.alias_targets_at_once(app_id, names).await?;
        Ok(found.into_iter().map(|(alias, (_, kept))| (alias, kept)).collect())
    }
}

/// Whom a write names: a user's row id (the console), or the userID the
/// app gave (the API), which may be a merged user's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient<'a> {
    Row(i64),
    UserId(&'a str),
}

/// The user a [`Recipient`] names, as the writing transaction sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressee {
    pub id: i64,
    pub external_id: String,
    pub active: bool,
    /// Named by a merged userID: what is written is noted for an undo.
    pub through_alias: bool,
}

impl WriteTx {
    /// The user `to` names now. Read in the writing transaction, so a
    /// merge or an undo committed since the caller last looked decides
    /// where the write goes, as it does for events.
    pub(crate) async fn addressee(&mut self, app_id: i64, to: Recipient<'_>) -> StoreResult<Option<Addressee>> {
        let (id, through_alias) = match to {
            Recipient::Row(id) => (id, false),
            Recipient::UserId(name) => {
                let (found, aliases) = self.user_ids_and_aliases(app_id, &[name]).await?;
                match found.get(name) {
                    Some(&id) => (id, aliases.contains_key(name)),
                    None => return Ok(None),
                }
            }
        };
        let sql = "SELECT external_id, active FROM users WHERE app_id = $1 AND id = $2";
        let row: Option<(String, bool)> =
            with_tx!(self, |conn| sqlx::query_as(sql).bind(app_id).bind(id).fetch_optional(&mut *conn).await)?;
        Ok(row.map(|(external_id, active)| Addressee { id, external_id, active, through_alias }))
    }
}

impl WriteTx {
    /// Notes rows of `kind` written through `alias` on user `user_id`, if a
    /// merge into that user can still be undone (else nothing would read
    /// them).
    pub(crate) async fn note_arrivals(
        &mut self,
        (app_id, user_id): (i64, i64),
        alias: &str,
        kind: Arrived,
        ids: &[i64],
        now: i64,
    ) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        // One row per write: a batch's ids as one JSON array.
        let sql = "INSERT INTO alias_arrivals (app_id, alias, kind, row_ids, arrived_at)
                   SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM user_merges
                       WHERE kept_id = $6 AND undone_at IS NULL AND merged_at >= $7)";
        let row_ids = serde_json::to_string(ids).map_err(|err| StoreError::Unavailable(err.to_string()))?;
        with_tx!(self, |conn| sqlx::query(sql)
            .bind(app_id)
            .bind(alias)
            .bind(kind.table())
            .bind(&row_ids)
            .bind(now)
            .bind(user_id)
            .bind(now - UNDO_WINDOW_MS)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// What arrived through `aliases` since `since`.
    pub(super) async fn arrivals_through(
        &mut self,
        app_id: i64,
        aliases: &[&str],
        since: i64,
    ) -> StoreResult<Arrivals> {
        let names_in = self.marks().in_bound_list(2, "text");
        let sql = format!(
            "SELECT kind, row_ids FROM alias_arrivals WHERE app_id = $1 AND alias {names_in} AND arrived_at >= $3"
        );
        let rows: Vec<(String, String)> = with_tx!(self, |conn| sqlx::query_as(&sql)
            .bind(app_id)
            .bind_names(aliases)
            .bind(since)
            .fetch_all(&mut *conn)
            .await)?;
        let mut arrivals = Arrivals::default();
        for (kind, row_ids) in rows {
            let ids: Vec<i64> =
                serde_json::from_str(&row_ids).map_err(|err| StoreError::Unavailable(err.to_string()))?;
            match kind.as_str() {
                "events" => arrivals.events.extend(ids),
                "devices" => arrivals.devices.extend(ids),
                "segment_members" => arrivals.memberships.extend(ids),
                _ => arrivals.messages.extend(ids),
            }
        }
        Ok(arrivals)
    }

    /// Forgets what arrived through `alias` (a userID that names a user of
    /// its own again).
    pub(super) async fn forget_arrivals(&mut self, app_id: i64, alias: &str) -> StoreResult<()> {
        let sql = "DELETE FROM alias_arrivals WHERE app_id = $1 AND alias = $2";
        with_tx!(self, |conn| sqlx::query(sql).bind(app_id).bind(alias).execute(&mut *conn).await.map(|_| ()))?;
        Ok(())
    }

    /// Forgets arrivals no undo can reach any more.
    pub(super) async fn forget_old_arrivals(&mut self, now: i64) -> StoreResult<()> {
        let sql = "DELETE FROM alias_arrivals WHERE arrived_at < $1";
        with_tx!(self, |conn| sqlx::query(sql).bind(now - UNDO_WINDOW_MS).execute(&mut *conn).await.map(|_| ()))?;
        Ok(())
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
