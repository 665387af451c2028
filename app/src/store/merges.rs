//! Merging two users of an app: everything of the merged user moves to the
//! kept one in one transaction, the merged user's row is deleted, and its
//! userID becomes an alias of the kept user. The merge keeps the merged
//! user's row and the ids of what moved (`user_merges.record`), which is
//! what its undo (`merge_undo.rs`) puts back.

use serde::{Deserialize, Serialize};

use super::batch::BindList;
use super::{with_pool, with_tx, Store, StoreError, StoreResult, WriteTx};
use crate::model::merges::MergeCounts;
use crate::model::properties::MAX_PROPERTIES;

/// How long a merge can be undone.
pub const UNDO_WINDOW_MS: i64 = 7 * 24 * 3_600_000;
/// The audit action of a merge (on the kept user).
pub const MERGED: &str = "merged";

/// Tables whose rows name their user in `user_id` and have an `id` of their
/// own: they move to the kept user as they are, and back by id on undo.
pub(super) const MOVED_BY_ID: [&str; 5] = ["devices", "messages", "notes", "property_changes", "audit"];

/// A user's row as it was before the merge deleted it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub(super) struct UserRow {
    pub id: i64,
    pub external_id: String,
    pub user_name: Option<String>,
    pub email: Option<String>,
    pub active: bool,
    pub push_token: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_seen_at: Option<i64>,
}

/// A stored property value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub(super) struct PropertyRow {
    pub name: String,
    pub kind: String,
    pub text_value: Option<String>,
    pub number_value: Option<f64>,
    pub updated_at: i64,
}

impl PropertyRow {
    /// The same value (whenever written).
    pub fn same_value(&self, other: &PropertyRow) -> bool {
        self.kind == other.kind && self.text_value == other.text_value && self.number_value == other.number_value
    }
}

/// What a merge moved, kept for its undo.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct MergeRecord {
    pub user: UserRow,
    /// Row ids per table of [`MOVED_BY_ID`], in its order.
    pub moved: Vec<Vec<i64>>,
    pub events: Vec<i64>,
    /// The merged user's memberships: (segment, added by, added at).
    pub memberships: Vec<(i64, String, i64)>,
    /// Segments the kept user joined through the merge.
    pub joined: Vec<i64>,
    /// The merged user's property values.
    pub properties: Vec<PropertyRow>,
    /// Values the merge wrote on the kept user, each with the kept user's
    /// value before (`None`: it had none).
    pub written: Vec<(PropertyRow, Option<PropertyRow>)>,
    /// userIDs that were aliases of the merged user (now of the kept one).
    pub aliases: Vec<String>,
}

/// A merge, as its redirect and banner need it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MergeSummary {
    pub id: i64,
    pub kept_id: i64,
    pub merged_id: i64,
    pub merged_external_id: String,
    pub merged_at: i64,
}

/// A merge done (or found done already).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Merge {
    pub id: i64,
    pub kept_id: i64,
    pub merged_id: i64,
    pub merged_external_id: String,
    pub merged_at: i64,
    pub moved: MergeCounts,
}

impl MergeRecord {
    pub(super) fn counts(&self) -> MergeCounts {
        let moved =
            |table: &str| MOVED_BY_ID.iter().position(|t| *t == table).map_or(0, |i| self.moved[i].len() as i64);
        MergeCounts {
            devices: moved("devices"),
            events: self.events.len() as i64,
            messages: moved("messages"),
            notes: moved("notes"),
            segments: self.memberships.len() as i64,
            properties: self.properties.len() as i64,
            property_changes: moved("property_changes"),
        }
    }
}

impl WriteTx {
    /// Merges `merged_id` into `kept_id` (both users of `app_id`): see the
    /// module's comment. Conflicting property values keep the kept user's,
    /// except the names in `take`, which take the merged user's.
    pub async fn merge_users(
        &mut self,
        app_id: i64,
        (merged_id, kept_id): (i64, i64),
        take: &[String],
        actor: &str,
        now: i64,
    ) -> StoreResult<Merge> {
        if merged_id == kept_id {
            return Err(StoreError::Invalid {
                field: "into".into(),
                message: "A user cannot be merged into itself.".into(),
            });
        }
        // The merged user is locked as an erasure locks it: ingest batches
        // that looked it up commit first (their rows then move below); later
        // ones wait, find it gone and follow its alias.
        self.lock_for_erasure(app_id, merged_id).await?;
        let sql = format!("SELECT id FROM users WHERE id = $1{}", self.key_share_lock());
        with_tx!(self, |conn| sqlx::query(&sql).bind(kept_id).fetch_all(&mut *conn).await.map(|_| ()))?;
        let user = self.user_row(app_id, merged_id).await?.ok_or(StoreError::NotFound("user"))?;
        let kept = self.user_row(app_id, kept_id).await?.ok_or(StoreError::NotFound("user"))?;
        let mut moved = Vec::with_capacity(MOVED_BY_ID.len());
        for table in MOVED_BY_ID {
            let sql = format!("UPDATE {table} SET user_id = $1 WHERE user_id = $2 RETURNING id");
            moved.push(self.ids_of(&sql, (kept_id, merged_id)).await?);
        }
        let events = self.move_events(app_id, merged_id, kept_id).await?;
        let (memberships, joined) = self.move_memberships(merged_id, kept_id).await?;
        let (properties, written) = self.move_properties(app_id, merged_id, kept_id, take, now).await?;
        let sql = "UPDATE user_aliases SET user_id = $1 WHERE user_id = $2 RETURNING external_id";
        let aliases: Vec<String> =
            with_tx!(self, |conn| sqlx::query_scalar(sql).bind(kept_id).bind(merged_id).fetch_all(&mut *conn).await)?;
        self.delete_search_rows(&[merged_id]).await?;
        let sql = "DELETE FROM users WHERE app_id = $1 AND id = $2";
        with_tx!(self, |conn| sqlx::query(sql).bind(app_id).bind(merged_id).execute(&mut *conn).await.map(|_| ()))?;

        self.forget_old_arrivals(now).await?;
        let record = MergeRecord { user, moved, events, memberships, joined, properties, written, aliases };
        let text = serde_json::to_string(&record).map_err(|err| StoreError::Unavailable(err.to_string()))?;
        let sql = "INSERT INTO user_merges (app_id, kept_id, merged_id, merged_external_id, record, actor, merged_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
        let id: i64 = with_tx!(self, |conn| sqlx::query_scalar(sql)
            .bind(app_id)
            .bind(kept_id)
            .bind(merged_id)
            .bind(&record.user.external_id)
            .bind(&text)
            .bind(actor)
            .bind(now)
            .fetch_one(&mut *conn)
            .await)?;
        let sql = "INSERT INTO user_aliases (app_id, external_id, user_id, merge_id) VALUES ($1, $2, $3, $4)";
        with_tx!(self, |conn| sqlx::query(sql)
            .bind(app_id)
            .bind(&record.user.external_id)
            .bind(kept_id)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
        let detail = format!("{} into {}", record.user.external_id, kept.external_id);
        self.record_audit(&super::NewAudit::on_user(app_id, kept_id, actor, MERGED).with_detail(&detail), now).await?;
        let sql = "UPDATE users SET updated_at = $1 WHERE id = $2";
        with_tx!(self, |conn| sqlx::query(sql).bind(now).bind(kept_id).execute(&mut *conn).await.map(|_| ()))?;
        Ok(Merge {
            id,
            kept_id,
            merged_id,
            merged_external_id: record.user.external_id.clone(),
            merged_at: now,
            moved: record.counts(),
        })
    }

    pub(super) async fn user_row(&mut self, app_id: i64, user_id: i64) -> StoreResult<Option<UserRow>> {
        let sql = "SELECT id, external_id, user_name, email, active, push_token, created_at, updated_at, last_seen_at
                   FROM users WHERE app_id = $1 AND id = $2";
        Ok(with_tx!(self, |conn| sqlx::query_as(sql).bind(app_id).bind(user_id).fetch_optional(&mut *conn).await)?)
    }

    /// Runs `sql` (`$1`, `$2` bound to the pair) and reads the ids it returns.
    pub(super) async fn ids_of(&mut self, sql: &str, (first, second): (i64, i64)) -> StoreResult<Vec<i64>> {
        Ok(with_tx!(self, |conn| sqlx::query_scalar(sql).bind(first).bind(second).fetch_all(&mut *conn).await)?)
    }

    /// The merged user's events become the kept user's, with their hour
    /// counts; the moved events' ids.
    async fn move_events(&mut self, app_id: i64, from: i64, to: i64) -> StoreResult<Vec<i64>> {
        let sql = "UPDATE events SET user_id = $1 WHERE app_id = $3 AND user_id = $2 RETURNING id";
        let ids: Vec<i64> = with_tx!(self, |conn| sqlx::query_scalar(sql)
            .bind(to)
            .bind(from)
            .bind(app_id)
            .fetch_all(&mut *conn)
            .await)?;
        let sql = "INSERT INTO event_hours (app_id, user_id, hour, n)
                   SELECT app_id, $1, hour, n FROM event_hours WHERE app_id = $3 AND user_id = $2
                   ON CONFLICT (app_id, user_id, hour) DO UPDATE SET n = event_hours.n + excluded.n";
        with_tx!(self, |conn| sqlx::query(sql).bind(to).bind(from).bind(app_id).execute(&mut *conn).await.map(|_| ()))?;
        let sql = "DELETE FROM event_hours WHERE app_id = $1 AND user_id = $2";
        with_tx!(self, |conn| sqlx::query(sql).bind(app_id).bind(from).execute(&mut *conn).await.map(|_| ()))?;
        Ok(ids)
    }

    /// The kept user joins the merged user's segments; the merged user's
    /// memberships, and the segments the kept user joined.
    async fn move_memberships(&mut self, from: i64, to: i64) -> StoreResult<(Vec<(i64, String, i64)>, Vec<i64>)> {
        let sql = "SELECT segment_id, added_by, added_at FROM segment_members WHERE user_id = $1 ORDER BY segment_id";
        let memberships: Vec<(i64, String, i64)> =
            with_tx!(self, |conn| sqlx::query_as(sql).bind(from).fetch_all(&mut *conn).await)?;
        let sql = "INSERT INTO segment_members (segment_id, user_id, added_by, added_at)
                   SELECT segment_id, $1, added_by, added_at FROM segment_members WHERE user_id = $2
                   ON CONFLICT DO NOTHING RETURNING segment_id";
        let joined = self.ids_of(sql, (to, from)).await?;
        let sql = "DELETE FROM segment_members WHERE user_id = $1";
        with_tx!(self, |conn| sqlx::query(sql).bind(from).execute(&mut *conn).await.map(|_| ()))?;
        Ok((memberships, joined))
    }

    /// The merged user's property values: those the kept user lacks, and
    /// those named in `take`, are written on the kept user. Returns the
    /// merged user's values and what was written (with what it replaced).
    async fn move_properties(
        &mut self,
        app_id: i64,
        from: i64,
        to: i64,
        take: &[String],
        now: i64,
    ) -> StoreResult<(Vec<PropertyRow>, Vec<(PropertyRow, Option<PropertyRow>)>)> {
        let merged = self.property_rows(from).await?;
        let kept = self.property_rows(to).await?;
        let mut written = Vec::new();
        for value in &merged {
            let before = kept.iter().find(|k| k.name == value.name);
            if before.is_none() || take.contains(&value.name) {
                written.push((PropertyRow { updated_at: now, ..value.clone() }, before.cloned()));
            }
        }
        let added = written.iter().filter(|(_, before)| before.is_none()).count();
        if kept.len() + added > MAX_PROPERTIES {
            return Err(StoreError::Invalid {
                field: "properties".into(),
                message: format!(
                    "Together the two users have more than {MAX_PROPERTIES} properties: remove some before merging."
                ),
            });
        }
        for (value, _) in &written {
            self.write_property_row(app_id, to, value).await?;
        }
        let sql = "DELETE FROM user_properties WHERE user_id = $1";
        with_tx!(self, |conn| sqlx::query(sql).bind(from).execute(&mut *conn).await.map(|_| ()))?;
        Ok((merged, written))
    }

    pub(super) async fn property_rows(&mut self, user_id: i64) -> StoreResult<Vec<PropertyRow>> {
        let sql = "SELECT name, kind, text_value, number_value, updated_at FROM user_properties
                   WHERE user_id = $1 ORDER BY name";
        Ok(with_tx!(self, |conn| sqlx::query_as(sql).bind(user_id).fetch_all(&mut *conn).await)?)
    }

    pub(super) async fn write_property_row(
        &mut self,
        app_id: i64,
        user_id: i64,
        value: &PropertyRow,
    ) -> StoreResult<()> {
        let sql = "INSERT INTO user_properties (user_id, app_id, name, kind, text_value, number_value, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)
                   ON CONFLICT (user_id, name) DO UPDATE SET kind = excluded.kind, text_value = excluded.text_value,
                       number_value = excluded.number_value, updated_at = excluded.updated_at";
        with_tx!(self, |conn| sqlx::query(sql)
            .bind(user_id)
            .bind(app_id)
            .bind(&value.name)
            .bind(&value.kind)
            .bind(&value.text_value)
            .bind(value.number_value)
            .bind(value.updated_at)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Moves rows of `table` with the given ids from one user to another
    /// (those still on `from`); how many moved.
    pub(super) async fn move_back(&mut self, table: &str, ids: &[i64], (from, to): (i64, i64)) -> StoreResult<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "UPDATE {table} SET user_id = $1 WHERE user_id = $2 AND id IN (SELECT c.id FROM {})",
            self.id_list(3)
        );
        Ok(with_tx!(self, |conn| sqlx::query(&sql)
            .bind(to)
            .bind(from)
            .bind_ids(ids)
            .execute(&mut *conn)
            .await
            .map(|r| r.rows_affected()))?)
    }
}

impl Store {
    /// Merges one user of the app into another (see [`WriteTx::merge_users`]).
    pub async fn merge_users(
        &self,
        app_id: i64,
        users: (i64, i64),
        take: &[String],
        actor: &str,
        now: i64,
    ) -> StoreResult<Merge> {
        super::write_tx!(self, |tx| tx.merge_users(app_id, users, take, actor, now).await)
    }

    /// Where a user merged away went: the merge that took it and the user
    /// that has its data now (following later merges of the kept user).
    /// `None` when the id was never merged (or its merge was undone).
    pub async fn merged_into(&self, app_id: i64, user_id: i64) -> StoreResult<Option<(MergeSummary, i64)>> {
        let Some(first) = self.live_merge_of(app_id, user_id).await? else { return Ok(None) };
        let mut now_at = first.kept_id;
        // Each hop is a later merge; a handful at most in practice.
        for _ in 0..32 {
            match self.live_merge_of(app_id, now_at).await? {
                Some(next) => now_at = next.kept_id,
                None => break,
            }
        }
        Ok(Some((first, now_at)))
    }

    /// The merge (not undone) that took `merged_id`, if any. Its record
    /// (the ids of what moved) is not read: it can be large.
    async fn live_merge_of(&self, app_id: i64, merged_id: i64) -> StoreResult<Option<MergeSummary>> {
        let sql = "SELECT id, kept_id, merged_id, merged_external_id, merged_at FROM user_merges
                   WHERE app_id = $1 AND merged_id = $2 AND undone_at IS NULL ORDER BY id DESC LIMIT 1";
        Ok(with_pool!(self, |pool| sqlx::query_as(sql).bind(app_id).bind(merged_id).fetch_optional(pool).await)?)
    }

    /// The merge that made `external_id` an alias (not undone), with what
    /// it moved.
    pub async fn merge_of_alias(&self, app_id: i64, external_id: &str) -> StoreResult<Option<Merge>> {
        let sql = "SELECT m.id, m.kept_id, m.merged_id, m.merged_external_id, m.merged_at, m.record
                   FROM user_aliases a JOIN user_merges m ON m.id = a.merge_id
                   WHERE a.app_id = $1 AND a.external_id = $2 AND m.undone_at IS NULL";
        let row: Option<(i64, i64, i64, String, i64, String)> =
            with_pool!(self, |pool| sqlx::query_as(sql).bind(app_id).bind(external_id).fetch_optional(pool).await)?;
        row.map(|(id, kept_id, merged_id, merged_external_id, merged_at, record)| {
            Ok(Merge { id, kept_id, merged_id, merged_external_id, merged_at, moved: parse_record(&record)?.counts() })
        })
        .transpose()
    }

    /// Merges into `kept_id` that can still be undone (newest first).
    pub async fn undoable_merges(&self, app_id: i64, kept_id: i64, now: i64) -> StoreResult<Vec<MergeSummary>> {
        let sql = "SELECT id, kept_id, merged_id, merged_external_id, merged_at FROM user_merges
                   WHERE app_id = $1 AND kept_id = $2 AND undone_at IS NULL AND merged_at > $3 ORDER BY id DESC";
        Ok(with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(app_id)
            .bind(kept_id)
            .bind(now - UNDO_WINDOW_MS)
            .fetch_all(pool)
            .await)?)
    }
}

pub(super) fn parse_record(text: &str) -> StoreResult<MergeRecord> {
    serde_json::from_str(text)
        .map_err(|err| StoreError::Unavailable(format!("a merge's record is not readable: {err}")))
}
