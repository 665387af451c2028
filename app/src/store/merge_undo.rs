//! Undoing a merge (within [`UNDO_WINDOW_MS`]): the merged user comes back
//! with its id, and what moved goes back by id (rows deleted since stay
//! deleted), with the events, devices, messages and segment memberships
//! the app sent since under the merged userID (`aliases.rs`). Values the merge wrote on the kept user are put back as they
//! were, unless the kept user's value changed since.

use super::batch::BindList;
use super::event_hours::{Change, HourCounts};
use super::merges::{parse_record, MergeRecord, MOVED_BY_ID};
use super::user_list::index::UserToIndex;
use super::users::summary_columns;
use super::{with_tx, write_tx, Store, StoreError, StoreResult, WriteTx, UNDO_WINDOW_MS};
use crate::model::UserSummary;

/// The audit action of an undone merge (on both users).
pub const UNMERGED: &str = "undid merge";

fn refused(message: impl Into<String>) -> StoreError {
    StoreError::Invalid { field: "merge".into(), message: message.into() }
}

impl WriteTx {
    /// Undoes merge `merge_id` of the app; the restored user's id.
    pub async fn undo_merge(&mut self, app_id: i64, merge_id: i64, actor: &str, now: i64) -> StoreResult<i64> {
        let lock = if self.is_postgres() { " FOR UPDATE" } else { "" };
        let sql = format!(
            "SELECT kept_id, record, merged_at, undone_at FROM user_merges WHERE app_id = $1 AND id = $2{lock}"
        );
        let row: Option<(i64, String, i64, Option<i64>)> =
            with_tx!(self, |conn| sqlx::query_as(&sql).bind(app_id).bind(merge_id).fetch_optional(&mut *conn).await)?;
        let (kept_id, record, merged_at, undone_at) = row.ok_or(StoreError::NotFound("merge"))?;
        if undone_at.is_some() {
            return Err(refused("This merge was undone already."));
        }
        if now - merged_at > UNDO_WINDOW_MS {
            return Err(refused("This merge is more than 7 days old: it can no longer be undone."));
        }
        let record = parse_record(&record)?;
        let sql = format!("SELECT external_id FROM users WHERE app_id = $1 AND id = $2{lock}");
        let kept: Option<String> = with_tx!(self, |conn| sqlx::query_scalar(&sql)
            .bind(app_id)
            .bind(kept_id)
            .fetch_optional(&mut *conn)
            .await)?;
        let Some(kept_external_id) = kept else {
            return Err(refused(
                "The user this one was merged into is gone (deleted, or merged into another user: undo that merge first).",
            ));
        };
        let merged_id = record.user.id;
        self.restore_user(app_id, &record).await?;
        for (table, ids) in MOVED_BY_ID.iter().zip(&record.moved) {
            self.move_back(table, ids, (kept_id, merged_id)).await?;
        }
        // What the app sent since under the merged userID (or the aliases
        // that go back with it) is the restored user's. The notes of those
        // aliases stay: an undo of their own merge takes their rows on.
        let names: Vec<&str> = std::iter::once(record.user.external_id.as_str())
            .chain(record.aliases.iter().map(String::as_str))
            .collect();
        let arrivals = self.arrivals_through(app_id, &names, merged_at).await?;
        self.forget_arrivals(app_id, &record.user.external_id).await?;
        self.move_back("devices", &arrivals.devices, (kept_id, merged_id)).await?;
        self.move_back("messages", &arrivals.messages, (kept_id, merged_id)).await?;
        self.move_memberships_back(&arrivals.memberships, (kept_id, merged_id)).await?;
        let events: Vec<i64> = record.events.iter().chain(&arrivals.events).copied().collect();
        self.move_events_back(app_id, &events, (kept_id, merged_id)).await?;
        if !arrivals.events.is_empty() {
            self.catch_up_last_seen(app_id, merged_id).await?;
        }
        self.restore_memberships(&record, kept_id).await?;
        self.restore_properties(app_id, &record, kept_id).await?;
        let sql = "DELETE FROM user_aliases WHERE app_id = $1 AND merge_id = $2";
        with_tx!(self, |conn| sqlx::query(sql).bind(app_id).bind(merge_id).execute(&mut *conn).await.map(|_| ()))?;
        for alias in &record.aliases {
            let sql = "UPDATE user_aliases SET user_id = $1 WHERE app_id = $2 AND external_id = $3 AND user_id = $4";
            with_tx!(self, |conn| sqlx::query(sql)
                .bind(merged_id)
                .bind(app_id)
                .bind(alias)
                .bind(kept_id)
                .execute(&mut *conn)
                .await
                .map(|_| ()))?;
        }
        let sql = "UPDATE user_merges SET undone_at = $1 WHERE id = $2";
        with_tx!(self, |conn| sqlx::query(sql).bind(now).bind(merge_id).execute(&mut *conn).await.map(|_| ()))?;
        let detail = format!("{} from {kept_external_id}", record.user.external_id);
        for user in [kept_id, merged_id] {
            let entry = super::NewAudit::on_user(app_id, user, actor, UNMERGED).with_detail(&detail);
            self.record_audit(&entry, now).await?;
        }
        Ok(merged_id)
    }

    /// The merged user's row again, with its id, search keys and (unless
    /// another user has it now) its Push Mail address.
    async fn restore_user(&mut self, app_id: i64, record: &MergeRecord) -> StoreResult<()> {
        let user = &record.user;
        let sql = "SELECT id FROM users WHERE app_id = $1 AND external_id = $2";
        let taken: Option<i64> = with_tx!(self, |conn| sqlx::query_scalar(sql)
            .bind(app_id)
            .bind(&user.external_id)
            .fetch_optional(&mut *conn)
            .await)?;
        if taken.is_some() {
            return Err(refused(format!(
                "A user with userID {} exists again: the merge cannot be undone.",
                user.external_id
            )));
        }
        let push_token = match &user.push_token {
            Some(token) => {
                let sql = "SELECT id FROM users WHERE push_token = $1";
                let holder: Option<i64> =
                    with_tx!(self, |conn| sqlx::query_scalar(sql).bind(token).fetch_optional(&mut *conn).await)?;
                holder.is_none().then_some(token.as_str())
            }
            None => None,
        };
        let sql = concat!(
            "INSERT INTO users (id, app_id, external_id, user_name, email, active, push_token, created_at,
                 updated_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ",
            summary_columns!()
        );
        let restored: UserSummary = with_tx!(self, |conn| sqlx::query_as(sql)
            .bind(user.id)
            .bind(app_id)
            .bind(&user.external_id)
            .bind(&user.user_name)
            .bind(&user.email)
            .bind(user.active)
            .bind(push_token)
            .bind(user.created_at)
            .bind(user.updated_at)
            .bind(user.last_seen_at)
            .fetch_one(&mut *conn)
            .await)?;
        self.reindex_users(&[UserToIndex::of(app_id, &restored)]).await
    }

    /// The moved events go back, with their hour counts.
    async fn move_events_back(&mut self, app_id: i64, ids: &[i64], (from, to): (i64, i64)) -> StoreResult<()> {
        if !ids.is_empty() {
            // By the user's index, the ids a filter: probing every monthly
            // partition's primary key per id costs more than reading the
            // kept user's events once.
            let ids_in = self.marks().in_bound_list(3, "bigint");
            let sql = format!("UPDATE events SET user_id = $1 WHERE app_id = $4 AND user_id = $2 AND id {ids_in}");
            with_tx!(self, |conn| {
                sqlx::query(&sql).bind(to).bind(from).bind_ids(ids).bind(app_id).execute(&mut *conn).await.map(|_| ())
            })?;
        }
        let sql = "SELECT occurred_at FROM events WHERE app_id = $1 AND user_id = $2";
        let times: Vec<i64> =
            with_tx!(self, |conn| sqlx::query_scalar(sql).bind(app_id).bind(to).fetch_all(&mut *conn).await)?;
        let back: HourCounts = times.iter().map(|at| (to, *at)).collect();
        let gone: HourCounts = times.iter().map(|at| (from, *at)).collect();
        self.change_event_hours(app_id, &gone, Change::Deleted).await?;
        self.change_event_hours(app_id, &back, Change::Stored).await
    }

    /// The user's last-seen time moved up to its newest event.
    async fn catch_up_last_seen(&mut self, app_id: i64, user_id: i64) -> StoreResult<()> {
        let sql = "SELECT MAX(occurred_at) FROM events WHERE app_id = $1 AND user_id = $2";
        let newest: Option<i64> =
            with_tx!(self, |conn| sqlx::query_scalar(sql).bind(app_id).bind(user_id).fetch_one(&mut *conn).await)?;
        let sql = "UPDATE users SET last_seen_at = $1 WHERE id = $2 AND (last_seen_at IS NULL OR last_seen_at < $1)";
        with_tx!(self, |conn| sqlx::query(sql).bind(newest).bind(user_id).execute(&mut *conn).await.map(|_| ()))?;
        Ok(())
    }

    /// Memberships of `segments` go from one user to the other (with who
    /// added them, and when).
    async fn move_memberships_back(&mut self, segments: &[i64], (from, to): (i64, i64)) -> StoreResult<()> {
        if segments.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO segment_members (segment_id, user_id, added_by, added_at)
             SELECT segment_id, $1, added_by, added_at FROM segment_members
             WHERE user_id = $2 AND segment_id IN (SELECT c.id FROM {}) ON CONFLICT DO NOTHING",
            self.id_list(3)
        );
        with_tx!(self, |conn| {
            sqlx::query(&sql).bind(to).bind(from).bind_ids(segments).execute(&mut *conn).await.map(|_| ())
        })?;
        let sql = format!(
            "DELETE FROM segment_members WHERE user_id = $1 AND segment_id IN (SELECT c.id FROM {})",
            self.id_list(2)
        );
        with_tx!(self, |conn| {
            sqlx::query(&sql).bind(from).bind_ids(segments).execute(&mut *conn).await.map(|_| ())
        })?;
        Ok(())
    }

    /// The merged user's memberships again; the kept user leaves the
    /// segments it joined through the merge.
    async fn restore_memberships(&mut self, record: &MergeRecord, kept_id: i64) -> StoreResult<()> {
        if !record.joined.is_empty() {
            let sql = format!(
                "DELETE FROM segment_members WHERE user_id = $1 AND segment_id IN (SELECT c.id FROM {})",
                self.id_list(2)
            );
            with_tx!(self, |conn| {
                sqlx::query(&sql).bind(kept_id).bind_ids(&record.joined).execute(&mut *conn).await.map(|_| ())
            })?;
        }
        for (segment, added_by, added_at) in &record.memberships {
            // Only to segments that still exist.
            let sql = "INSERT INTO segment_members (segment_id, user_id, added_by, added_at)
                       SELECT id, $2, $3, $4 FROM segments WHERE id = $1 ON CONFLICT DO NOTHING";
            with_tx!(self, |conn| sqlx::query(sql)
                .bind(segment)
                .bind(record.user.id)
                .bind(added_by)
                .bind(added_at)
                .execute(&mut *conn)
                .await
                .map(|_| ()))?;
        }
        Ok(())
    }

    /// The merged user's values again; on the kept user, each value the
    /// merge wrote goes back to what it was, unless it changed since.
    async fn restore_properties(&mut self, app_id: i64, record: &MergeRecord, kept_id: i64) -> StoreResult<()> {
        let now_kept = self.property_rows(kept_id).await?;
        for (written, before) in &record.written {
            let current = now_kept.iter().find(|v| v.name == written.name);
            if !current.is_some_and(|v| v.same_value(written)) {
                continue;
            }
            match before {
                Some(value) => self.write_property_row(app_id, kept_id, value).await?,
                None => {
                    let sql = "DELETE FROM user_properties WHERE user_id = $1 AND name = $2";
                    with_tx!(self, |conn| sqlx::query(sql)
                        .bind(kept_id)
                        .bind(&written.name)
                        .execute(&mut *conn)
                        .await
                        .map(|_| ()))?;
                }
            }
        }
        for value in &record.properties {
            self.write_property_row(app_id, record.user.id, value).await?;
        }
        Ok(())
    }
}

impl Store {
    /// Undoes a merge (see [`WriteTx::undo_merge`]); the restored user's id.
    pub async fn undo_merge(&self, app_id: i64, merge_id: i64, actor: &str, now: i64) -> StoreResult<i64> {
        write_tx!(self, |tx| tx.undo_merge(app_id, merge_id, actor, now).await)
    }
}
