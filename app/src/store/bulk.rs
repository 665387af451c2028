//! Bulk actions over a job's selection (`job_users`), a chunk at a time.
//! Each statement reads the chunk's users from `job_users` (no ids travel
//! back and forth) and joins `users` on the app, so a user deleted since
//! the selection, or another app's, is left alone. Audit rows are written
//! first, for exactly the users the change will touch, in the same
//! transaction as the change.

use super::batch::chunks;
use super::{with_tx, StoreResult, WriteTx};

/// The users of a job's chunk: every `job_users` row of the job up to
/// `$2` (earlier chunks' rows are gone), joined to the app's users (`$3`).
macro_rules! chunk_users {
    () => {
        "FROM job_users j JOIN users u ON u.id = j.user_id WHERE j.job_id = $1 AND j.seq <= $2 AND u.app_id = $3"
    };
}

/// What one chunk of a bulk action did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChunkEffect {
    /// Users in the chunk.
    pub users: i64,
    /// Users it changed.
    pub changed: i64,
}

/// An audit row per user a bulk change touches: its action and detail.
#[derive(Debug, Clone, Copy)]
pub struct BulkAudit<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub detail: &'a str,
}

impl WriteTx {
    /// Appends users to a job's selection, numbered from `first_seq`.
    pub async fn add_job_users(&mut self, job_id: i64, first_seq: i64, user_ids: &[i64]) -> StoreResult<()> {
        let marks = self.marks();
        let mut seq = first_seq;
        for chunk in chunks(user_ids) {
            let sql = format!("INSERT INTO job_users (job_id, seq, user_id) VALUES {}", marks.values(chunk.len(), 3));
            with_tx!(self, |conn| {
                let mut query = sqlx::query(&sql);
                for user_id in chunk {
                    query = query.bind(job_id).bind(seq).bind(*user_id);
                    seq += 1;
                }
                query.execute(&mut *conn).await.map(|_| ())
            })?;
        }
        Ok(())
    }

    /// The next chunk of a job's selection: the `seq` of its last row and
    /// how many rows it has (`None` when the selection is used up).
    pub async fn next_job_chunk(&mut self, job_id: i64, size: i64) -> StoreResult<Option<(i64, i64)>> {
        let sql = "SELECT MAX(seq), COUNT(*) FROM (
                       SELECT seq FROM job_users WHERE job_id = $1 ORDER BY seq LIMIT $2) c";
        let (last, rows): (Option<i64>, i64) =
            with_tx!(self, |conn| sqlx::query_as(sql).bind(job_id).bind(size).fetch_one(&mut *conn).await)?;
        Ok(last.map(|last| (last, rows)))
    }

    /// The app's users of the chunk up to `last_seq`, by id.
    pub async fn job_chunk_user_ids(&mut self, job_id: i64, last_seq: i64, app_id: i64) -> StoreResult<Vec<i64>> {
        let sql = concat!("SELECT u.id ", chunk_users!(), " ORDER BY u.id");
        Ok(with_tx!(self, |conn| sqlx::query_scalar(sql)
            .bind(job_id)
            .bind(last_seq)
            .bind(app_id)
            .fetch_all(&mut *conn)
            .await)?)
    }

    /// Drops the chunk's rows from the selection: its work is done.
    pub async fn drop_job_chunk(&mut self, job_id: i64, last_seq: i64) -> StoreResult<()> {
        let sql = "DELETE FROM job_users WHERE job_id = $1 AND seq <= $2";
        with_tx!(self, |conn| sqlx::query(sql).bind(job_id).bind(last_seq).execute(&mut *conn).await.map(|_| ()))?;
        Ok(())
    }

    /// The chunk's users join the segment (those not in it yet, each with
    /// an audit row); how many joined.
    pub async fn bulk_join_segment(
        &mut self,
        (job_id, last_seq, app_id): (i64, i64, i64),
        segment_id: i64,
        audit: BulkAudit<'_>,
        now: i64,
    ) -> StoreResult<i64> {
        let outside = "AND NOT EXISTS (SELECT 1 FROM segment_members m WHERE m.segment_id = $4 AND m.user_id = u.id)";
        self.bulk_audit(job_id, last_seq, app_id, segment_id, outside, audit, now).await?;
        let sql = concat!(
            "INSERT INTO segment_members (segment_id, user_id, added_by, added_at) SELECT $4, u.id, $5, $6 ",
            chunk_users!(),
            " ON CONFLICT DO NOTHING"
        );
        let joined = with_tx!(self, |conn| sqlx::query(sql)
            .bind(job_id)
            .bind(last_seq)
            .bind(app_id)
            .bind(segment_id)
            .bind(audit.actor)
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected());
        Ok(joined as i64)
    }

    /// The chunk's members of the segment leave it (each with an audit
    /// row); how many left.
    pub async fn bulk_leave_segment(
        &mut self,
        (job_id, last_seq, app_id): (i64, i64, i64),
        segment_id: i64,
        audit: BulkAudit<'_>,
        now: i64,
    ) -> StoreResult<i64> {
        let inside = "AND EXISTS (SELECT 1 FROM segment_members m WHERE m.segment_id = $4 AND m.user_id = u.id)";
        self.bulk_audit(job_id, last_seq, app_id, segment_id, inside, audit, now).await?;
        let sql = concat!(
            "DELETE FROM segment_members WHERE segment_id = $4 AND user_id IN (SELECT u.id ",
            chunk_users!(),
            ")"
        );
        let left = with_tx!(self, |conn| sqlx::query(sql)
            .bind(job_id)
            .bind(last_seq)
            .bind(app_id)
            .bind(segment_id)
            .execute(&mut *conn)
            .await?
            .rows_affected());
        Ok(left as i64)
    }

    /// The chunk's users become active or deactivated (those not so yet,
    /// each with an audit row); how many changed.
    pub async fn bulk_set_active(
        &mut self,
        (job_id, last_seq, app_id): (i64, i64, i64),
        active: bool,
        audit: BulkAudit<'_>,
        now: i64,
    ) -> StoreResult<i64> {
        let other = "AND u.active <> $4";
        self.bulk_audit(job_id, last_seq, app_id, active, other, audit, now).await?;
        let sql = concat!(
            "UPDATE users SET active = $4, updated_at = $5 WHERE active <> $4 AND id IN (SELECT u.id ",
            chunk_users!(),
            ")"
        );
        let changed = with_tx!(self, |conn| sqlx::query(sql)
            .bind(job_id)
            .bind(last_seq)
            .bind(app_id)
            .bind(active)
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected());
        Ok(changed as i64)
    }

    /// An audit row for each of the chunk's users `condition` (on `u`, with
    /// `$4` bound to `value`) holds for.
    #[allow(clippy::too_many_arguments)]
    async fn bulk_audit<V>(
        &mut self,
        job_id: i64,
        last_seq: i64,
        app_id: i64,
        value: V,
        condition: &str,
        audit: BulkAudit<'_>,
        now: i64,
    ) -> StoreResult<()>
    where
        V: for<'q> sqlx::Encode<'q, sqlx::Sqlite>
            + for<'q> sqlx::Encode<'q, sqlx::Postgres>
            + sqlx::Type<sqlx::Sqlite>
            + sqlx::Type<sqlx::Postgres>
            + Copy
            + Send
            + 'static,
    {
        let sql = format!(
            "INSERT INTO audit (app_id, actor, action, user_id, detail, created_at)
             SELECT $3, $5, $6, u.id, $7, $8 {} {condition} ORDER BY j.seq",
            chunk_users!()
        );
        with_tx!(self, |conn| sqlx::query(&sql)
            .bind(job_id)
            .bind(last_seq)
            .bind(app_id)
            .bind(value)
            .bind(audit.actor)
            .bind(audit.action)
            .bind(audit.detail)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}
