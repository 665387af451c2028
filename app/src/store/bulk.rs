//! Bulk actions over a job's selection (`job_blocks`), a block at a time.
//! A block's users are kept to the app's users that still exist (a user
//! deleted since the selection, or another app's, is left alone). Each
//! change returns the users it touched, and exactly those get an audit
//! row, in the same transaction.

use super::batch::BindList;
use super::{with_tx, StoreError, StoreResult, WriteTx};

/// An audit row per user a bulk change touches: its action and detail.
#[derive(Debug, Clone, Copy)]
pub struct BulkAudit<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub detail: &'a str,
}

impl WriteTx {
    /// Appends users to a job's selection, numbered from `first_seq`, as
    /// blocks of at most `block` ids (a chunk of work each), a row per block.
    pub async fn add_job_users(
        &mut self,
        job_id: i64,
        first_seq: i64,
        user_ids: &[i64],
        block: usize,
    ) -> StoreResult<()> {
        let sql = "INSERT INTO job_blocks (job_id, last_seq, user_ids) VALUES ($1, $2, $3)";
        let mut last_seq = first_seq - 1;
        for ids in user_ids.chunks(block.max(1)) {
            last_seq += ids.len() as i64;
            with_tx!(self, |conn| sqlx::query(sql)
                .bind(job_id)
                .bind(last_seq)
                .bind_ids(ids)
                .execute(&mut *conn)
                .await
                .map(|_| ()))?;
        }
        Ok(())
    }

    /// The next block of a job's selection after place `after` (-1 for the
    /// first): the last place it holds and its user ids (`None` when the
    /// selection is used up). One row read by the key.
    pub async fn next_job_block(&mut self, job_id: i64, after: i64) -> StoreResult<Option<(i64, Vec<i64>)>> {
        let ids = if self.is_postgres() { "array_to_json(user_ids)::text" } else { "user_ids" };
        let sql = format!(
            "SELECT last_seq, {ids} FROM job_blocks WHERE job_id = $1 AND last_seq > $2 ORDER BY last_seq LIMIT 1"
        );
        let row: Option<(i64, String)> =
            with_tx!(self, |conn| sqlx::query_as(&sql).bind(job_id).bind(after).fetch_optional(&mut *conn).await)?;
        let Some((last_seq, ids)) = row else { return Ok(None) };
        let ids: Vec<i64> = serde_json::from_str(&ids).map_err(|err| StoreError::Unavailable(err.to_string()))?;
        Ok(Some((last_seq, ids)))
    }

    /// Those of `ids` that are users of the app, by id. No user is locked: a
    /// change that needs its users to stay takes the app's removal lock
    /// first ([`WriteTx::hold_off_removals`]).
    pub async fn users_of_app(&mut self, app_id: i64, ids: &[i64]) -> StoreResult<Vec<i64>> {
        // PostgreSQL probes the users' key per id, planned at each run: a
        // join on the list was planned as a merge join that read the
        // users' key from the first id on, for every chunk.
        if self.is_postgres() {
            let sql = "SELECT id FROM users WHERE id = ANY($2) AND app_id = $1 ORDER BY id";
            let query = sqlx::query_scalar(sql).persistent(false).bind(app_id).bind(ids.to_vec());
            return Ok(query.fetch_all(&mut **self.postgres()?).await?);
        }
        let sql = format!(
            "SELECT u.id FROM {} JOIN users u ON u.id = c.id WHERE u.app_id = $1 ORDER BY u.id",
            self.id_list(2)
        );
        self.ids_query(&sql, app_id, ids).await
    }

    /// Drops the selection's block that ends at `last_seq`: its work is done.
    pub async fn drop_job_block(&mut self, job_id: i64, last_seq: i64) -> StoreResult<()> {
        let sql = "DELETE FROM job_blocks WHERE job_id = $1 AND last_seq = $2";
        with_tx!(self, |conn| sqlx::query(sql).bind(job_id).bind(last_seq).execute(&mut *conn).await.map(|_| ()))?;
        Ok(())
    }

    /// `users` (the app's) join the segment, those not in it yet each with
    /// an audit row; how many joined.
    pub async fn bulk_join_segment(
        &mut self,
        app_id: i64,
        users: &[i64],
        segment_id: i64,
        audit: BulkAudit<'_>,
        now: i64,
    ) -> StoreResult<i64> {
        // `WHERE true`: SQLite's parser needs it before `ON CONFLICT`.
        let sql = format!(
            "INSERT INTO segment_members (segment_id, user_id, added_by, added_at)
             SELECT $1, c.id, $2, $3 FROM {} WHERE true ON CONFLICT DO NOTHING RETURNING user_id",
            self.id_list(4)
        );
        let joined = self.ids_query_text(&sql, (segment_id, audit.actor, now), users).await?;
        self.bulk_audit(app_id, &joined, audit, now).await?;
        Ok(joined.len() as i64)
    }

    /// The members among `users` leave the segment, each with an audit row;
    /// how many left.
    pub async fn bulk_leave_segment(
        &mut self,
        app_id: i64,
        users: &[i64],
        segment_id: i64,
        audit: BulkAudit<'_>,
        now: i64,
    ) -> StoreResult<i64> {
        let sql = format!(
            "DELETE FROM segment_members WHERE segment_id = $1 AND user_id IN (SELECT c.id FROM {}) RETURNING user_id",
            self.id_list(2)
        );
        let left = self.ids_query(&sql, segment_id, users).await?;
        self.bulk_audit(app_id, &left, audit, now).await?;
        Ok(left.len() as i64)
    }

    /// `users` become active or deactivated, those not so yet each with an
    /// audit row; how many changed.
    pub async fn bulk_set_active(
        &mut self,
        app_id: i64,
        users: &[i64],
        active: bool,
        audit: BulkAudit<'_>,
        now: i64,
    ) -> StoreResult<i64> {
        let sql = format!(
            "UPDATE users SET updated_at = $1, active = $2
             WHERE active <> $2 AND id IN (SELECT c.id FROM {}) RETURNING id",
            self.id_list(3)
        );
        let changed = self.ids_query_flag(&sql, (now, active), users).await?;
        self.bulk_audit(app_id, &changed, audit, now).await?;
        Ok(changed.len() as i64)
    }

    /// An audit row on each of `users`.
    async fn bulk_audit(&mut self, app_id: i64, users: &[i64], audit: BulkAudit<'_>, now: i64) -> StoreResult<()> {
        if users.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO audit (app_id, actor, action, user_id, detail, created_at)
             SELECT $1, $2, $3, c.id, $4, $5 FROM {}",
            self.id_list(6)
        );
        with_tx!(self, |conn| sqlx::query(&sql)
            .bind(app_id)
            .bind(audit.actor)
            .bind(audit.action)
            .bind(audit.detail)
            .bind(now)
            .bind_ids(users)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// `c(id, n)`: a list of ids (`n` their place, from 1) bound as one
    /// value at placeholder `$n` (an array on PostgreSQL, a JSON array on
    /// SQLite; see [`BindList`]). One statement for a chunk of any size,
    /// read as given (a join on the selection's table, planned from the
    /// statistics of an emptier table, scanned a table once per row). A
    /// join on it can still be planned as a merge join over the joined
    /// table's key (`users_of_app` probes the key instead).
    pub(super) fn id_list(&self, n: usize) -> String {
        if self.is_postgres() {
            format!("unnest(${n}::bigint[]) WITH ORDINALITY AS c(id, n)")
        } else {
            format!("(SELECT value AS id, key + 1 AS n FROM json_each(${n})) AS c")
        }
    }

    /// Runs `sql` (`$1` bound to `first`, then the id list) and reads the
    /// one id column it returns.
    async fn ids_query(&mut self, sql: &str, first: i64, ids: &[i64]) -> StoreResult<Vec<i64>> {
        Ok(with_tx!(self, |conn| sqlx::query_scalar(sql).bind(first).bind_ids(ids).fetch_all(&mut *conn).await)?)
    }

    /// [`WriteTx::ids_query`] with `$1` a time and `$2` a flag.
    async fn ids_query_flag(&mut self, sql: &str, (time, flag): (i64, bool), ids: &[i64]) -> StoreResult<Vec<i64>> {
        Ok(with_tx!(self, |conn| sqlx::query_scalar(sql)
            .bind(time)
            .bind(flag)
            .bind_ids(ids)
            .fetch_all(&mut *conn)
            .await)?)
    }

    /// [`WriteTx::ids_query`] with `$2` a text and `$3` a time.
    async fn ids_query_text(
        &mut self,
        sql: &str,
        (first, text, time): (i64, &str, i64),
        ids: &[i64],
    ) -> StoreResult<Vec<i64>> {
        Ok(with_tx!(self, |conn| sqlx::query_scalar(sql)
            .bind(first)
            .bind(text)
            .bind(time)
            .bind_ids(ids)
            .fetch_all(&mut *conn)
            .await)?)
    }
}
