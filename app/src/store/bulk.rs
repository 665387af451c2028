//! Bulk actions over a job's selection (`job_users`), a chunk at a time.
//! A chunk's users are read by the selection's key and kept to the app's
//! users that still exist (a user deleted since the selection, or another
//! app's, is left alone). Each change returns the users it touched, and
//! exactly those get an audit row, in the same transaction.

use super::batch::BindList;
use super::{with_tx, StoreResult, WriteTx};

/// An audit row per user a bulk change touches: its action and detail.
#[derive(Debug, Clone, Copy)]
pub struct BulkAudit<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub detail: &'a str,
}

impl WriteTx {
    /// Appends users to a job's selection, numbered from `first_seq`, in
    /// one statement (the ids bound as one value).
    pub async fn add_job_users(&mut self, job_id: i64, first_seq: i64, user_ids: &[i64]) -> StoreResult<()> {
        if user_ids.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO job_users (job_id, seq, user_id) SELECT $1, $2 + c.n - 1, c.id FROM {}",
            self.id_list(3)
        );
        with_tx!(self, |conn| sqlx::query(&sql)
            .bind(job_id)
            .bind(first_seq)
            .bind_ids(user_ids)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The next chunk of a job's selection after the row `after` (-1 for
    /// the first): the `seq` that ends it and how many rows it has (`None`
    /// when the selection is used up). Reading from `after`, not from the
    /// selection's start, skips the rows earlier chunks deleted (dead index
    /// entries until a vacuum: each chunk would walk them all). The chunk
    /// is the `size` seqs from the first row left: two bounded index reads,
    /// whatever the statistics say (an estimate made while the selection
    /// was empty had PostgreSQL read and sort all of it for every chunk). A
    /// selection with gaps (users erased meanwhile) gives smaller chunks.
    pub async fn next_job_chunk(&mut self, job_id: i64, after: i64, size: i64) -> StoreResult<Option<(i64, i64)>> {
        let sql = "SELECT MIN(seq) FROM job_users WHERE job_id = $1 AND seq > $2";
        let first: Option<i64> =
            with_tx!(self, |conn| sqlx::query_scalar(sql).bind(job_id).bind(after).fetch_one(&mut *conn).await)?;
        let Some(first) = first else { return Ok(None) };
        let last = first + size - 1;
        let sql = "SELECT COUNT(*) FROM job_users WHERE job_id = $1 AND seq >= $2 AND seq <= $3";
        let rows: i64 = with_tx!(self, |conn| sqlx::query_scalar(sql)
            .bind(job_id)
            .bind(first)
            .bind(last)
            .fetch_one(&mut *conn)
            .await)?;
        Ok(Some((last, rows)))
    }

    /// The app's users of the chunk `(after, last]` (its rows' `seq`), by
    /// id: the chunk's rows read by the selection's key, then those still
    /// users of the app. No user is locked: a change that needs its users
    /// to stay takes the app's removal lock first
    /// ([`WriteTx::hold_off_removals`]).
    pub async fn job_chunk_user_ids(
        &mut self,
        job_id: i64,
        (after, last): (i64, i64),
        app_id: i64,
    ) -> StoreResult<Vec<i64>> {
        let sql = "SELECT user_id FROM job_users WHERE job_id = $1 AND seq > $2 AND seq <= $3";
        let ids: Vec<i64> = with_tx!(self, |conn| sqlx::query_scalar(sql)
            .bind(job_id)
            .bind(after)
            .bind(last)
            .fetch_all(&mut *conn)
            .await)?;
        // PostgreSQL probes the users' key per id, planned at each run: a
        // join on the list was planned as a merge join that read the
        // users' key from the first id on, for every chunk.
        if self.is_postgres() {
            let sql = "SELECT id FROM users WHERE id = ANY($2) AND app_id = $1 ORDER BY id";
            let query = sqlx::query_scalar(sql).persistent(false).bind(app_id).bind(ids);
            return Ok(query.fetch_all(&mut **self.postgres()?).await?);
        }
        let sql = format!(
            "SELECT u.id FROM {} JOIN users u ON u.id = c.id WHERE u.app_id = $1 ORDER BY u.id",
            self.id_list(2)
        );
        self.ids_query(&sql, app_id, &ids).await
    }

    /// Drops the chunk `(after, last]` from the selection: its work is done.
    pub async fn drop_job_chunk(&mut self, job_id: i64, (after, last): (i64, i64)) -> StoreResult<()> {
        let sql = "DELETE FROM job_users WHERE job_id = $1 AND seq > $2 AND seq <= $3";
        with_tx!(self, |conn| sqlx::query(sql)
            .bind(job_id)
            .bind(after)
            .bind(last)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
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
    /// table's key (`job_chunk_user_ids` probes the key instead).
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
