//! Background jobs: their rows, who runs them, and their progress. A job
//! is claimed by one runner (its `owner`), which renews `heartbeat_at` with
//! every chunk it commits; a job whose runner stopped (its heartbeat older
//! than the staleness the runner is given) is claimed again by any runner
//! and goes on from its last committed chunk.

use super::batch::chunks;
use super::{with_pool, with_tx, write_tx, Store, StoreError, StoreResult, WriteTx};
use crate::model::jobs::{Job, JobKind, JobStatus, Refusal, MAX_KEPT_REFUSALS};

/// A job to create.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub app_id: i64,
    pub kind: JobKind,
    pub actor: &'a str,
    pub description: &'a str,
    /// The job's own settings (JSON), read by its runner.
    pub params: &'a str,
    pub total: i64,
    /// Where the runner starts (JSON), if anywhere but the beginning.
    pub position: Option<&'a str>,
    /// A runner that has the job's input (the uploaded file) claims it at
    /// once; others only once its heartbeat is stale.
    pub owner: Option<&'a str>,
}

/// A job as its runner sees it: the row, its settings and where it is.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub job: Job,
    pub params: String,
    pub position: Option<String>,
}

/// What one chunk adds to a job's counts, and where the job is after it.
#[derive(Debug, Clone, Default)]
pub struct ChunkDone<'a> {
    pub done: i64,
    pub changed: i64,
    pub unchanged: i64,
    pub refused: i64,
    /// The new position, when the job keeps one.
    pub position: Option<&'a str>,
}

macro_rules! job_columns {
    () => {
        "id, app_id, kind, status, actor, description, total, done, changed, unchanged, refused, \
         cancel_requested, error, created_at, started_at, finished_at"
    };
}

#[derive(sqlx::FromRow)]
struct StoredJob {
    id: i64,
    app_id: i64,
    kind: String,
    status: String,
    actor: String,
    description: String,
    total: i64,
    done: i64,
    changed: i64,
    unchanged: i64,
    refused: i64,
    cancel_requested: bool,
    error: Option<String>,
    created_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
}

impl TryFrom<StoredJob> for Job {
    type Error = StoreError;

    fn try_from(row: StoredJob) -> StoreResult<Job> {
        let bad = |what: &str, value: &str| StoreError::Invalid {
            field: what.into(),
            message: format!("job {} has an unknown {what} '{value}'", row.id),
        };
        let kind = JobKind::parse(&row.kind).ok_or_else(|| bad("kind", &row.kind))?;
        let status = JobStatus::parse(&row.status).ok_or_else(|| bad("status", &row.status))?;
        Ok(Job {
            id: row.id,
            app_id: row.app_id,
            kind,
            status,
            actor: row.actor,
            description: row.description,
            total: row.total,
            done: row.done,
            changed: row.changed,
            unchanged: row.unchanged,
            refused: row.refused,
            cancel_requested: row.cancel_requested,
            error: row.error,
            created_at: row.created_at,
            started_at: row.started_at,
            finished_at: row.finished_at,
        })
    }
}

impl Store {
    /// Creates a job, queued; its id.
    pub async fn create_job(&self, job: &NewJob<'_>, now: i64) -> StoreResult<i64> {
        write_tx!(self, |tx| tx.create_job(job, now).await)
    }

    /// One of the app's jobs.
    pub async fn job(&self, app_id: i64, job_id: i64) -> StoreResult<Option<Job>> {
        let sql = concat!("SELECT ", job_columns!(), " FROM jobs WHERE app_id = $1 AND id = $2");
        let row: Option<StoredJob> =
            with_pool!(self, |pool| sqlx::query_as(sql).bind(app_id).bind(job_id).fetch_optional(pool).await)?;
        row.map(Job::try_from).transpose()
    }

    /// A job's own settings (JSON).
    pub async fn job_params(&self, job_id: i64) -> StoreResult<Option<String>> {
        let sql = "SELECT params FROM jobs WHERE id = $1";
        with_pool!(self, |pool| Ok(sqlx::query_scalar(sql).bind(job_id).fetch_optional(pool).await?))
    }

    /// The app's newest jobs, newest first.
    pub async fn recent_jobs(&self, app_id: i64, limit: i64) -> StoreResult<Vec<Job>> {
        let sql = concat!("SELECT ", job_columns!(), " FROM jobs WHERE app_id = $1 ORDER BY id DESC LIMIT $2");
        let rows: Vec<StoredJob> =
            with_pool!(self, |pool| sqlx::query_as(sql).bind(app_id).bind(limit).fetch_all(pool).await)?;
        rows.into_iter().map(Job::try_from).collect()
    }

    /// The rows an import refused, by line, up to `limit`.
    pub async fn job_refusals(&self, job_id: i64, limit: i64) -> StoreResult<Vec<Refusal>> {
        let sql = "SELECT line, user_ref, reason FROM job_refusals WHERE job_id = $1 ORDER BY line LIMIT $2";
        with_pool!(self, |pool| Ok(sqlx::query_as(sql).bind(job_id).bind(limit).fetch_all(pool).await?))
    }

    /// Asks the app's job to stop: a waiting job is cancelled at once, a
    /// running one after its current chunk. False when there is no such
    /// job or it has finished.
    pub async fn request_job_cancel(&self, app_id: i64, job_id: i64, now: i64) -> StoreResult<bool> {
        write_tx!(self, |tx| {
            let sql = "UPDATE jobs SET cancel_requested = TRUE
                       WHERE app_id = $1 AND id = $2 AND status IN ('queued', 'running')";
            let asked = with_tx!(tx, |conn| sqlx::query(sql)
                .bind(app_id)
                .bind(job_id)
                .execute(&mut *conn)
                .await?
                .rows_affected());
            // Nobody is working on a waiting job: it ends here.
            let waiting = "UPDATE jobs SET status = 'cancelled', finished_at = $1
                           WHERE id = $2 AND status = 'queued' AND owner IS NULL";
            with_tx!(tx, |conn| sqlx::query(waiting).bind(now).bind(job_id).execute(&mut *conn).await.map(|_| ()))?;
            Ok(asked == 1)
        })
    }

    /// Claims the oldest unfinished job for `owner`: one nobody runs, one
    /// given to `owner` at its creation, or one whose runner has not been
    /// heard of since `stale_before` (it stopped). `None` when there is none.
    pub async fn claim_job(&self, owner: &str, now: i64, stale_before: i64) -> StoreResult<Option<ClaimedJob>> {
        // The outer conditions repeat the inner ones: on PostgreSQL a
        // runner that lost the race re-reads the row and finds it taken.
        let free = "status IN ('queued', 'running') AND (owner IS NULL OR owner = $1 OR heartbeat_at < $3)";
        let sql = format!(
            "UPDATE jobs SET owner = $1, heartbeat_at = $2, status = 'running', started_at = COALESCE(started_at, $2)
             WHERE id = (SELECT id FROM jobs WHERE {free} ORDER BY id LIMIT 1) AND {free}
             RETURNING {}, params, position",
            job_columns!()
        );
        let claimed = write_tx!(self, |tx| {
            with_tx!(tx, |conn| {
                let row = sqlx::query(&sql).bind(owner).bind(now).bind(stale_before).fetch_optional(&mut *conn).await?;
                row.map(|row| {
                    use sqlx::{FromRow, Row};
                    let job = StoredJob::from_row(&row)?;
                    Ok::<_, sqlx::Error>((job, row.try_get::<String, _>("params")?, row.try_get("position")?))
                })
                .transpose()
            })
            .map_err(StoreError::from)
        })?;
        claimed.map(|(job, params, position)| Ok(ClaimedJob { job: Job::try_from(job)?, params, position })).transpose()
    }

    /// Ends `owner`'s job with `status` (and the error, if it failed), and
    /// drops what was left of its selection.
    pub async fn finish_job(
        &self,
        job_id: i64,
        owner: &str,
        status: JobStatus,
        error: Option<&str>,
        now: i64,
    ) -> StoreResult<()> {
        write_tx!(self, |tx| {
            let sql = "UPDATE jobs SET status = $1, error = $2, finished_at = $3, heartbeat_at = $3, owner = NULL
                       WHERE id = $4 AND owner = $5 AND status = 'running'";
            with_tx!(tx, |conn| sqlx::query(sql)
                .bind(status.as_str())
                .bind(error)
                .bind(now)
                .bind(job_id)
                .bind(owner)
                .execute(&mut *conn)
                .await
                .map(|_| ()))?;
            let rest = "DELETE FROM job_blocks WHERE job_id = $1";
            with_tx!(tx, |conn| sqlx::query(rest).bind(job_id).execute(&mut *conn).await.map(|_| ()))?;
            Ok(())
        })
    }

    /// Hands `owner`'s job back (the instance is stopping): another runner,
    /// or this one after a restart, takes it up at once.
    pub async fn release_job(&self, job_id: i64, owner: &str) -> StoreResult<()> {
        let sql = "UPDATE jobs SET owner = NULL WHERE id = $1 AND owner = $2 AND status = 'running'";
        write_tx!(self, |tx| with_tx!(tx, |conn| sqlx::query(sql)
            .bind(job_id)
            .bind(owner)
            .execute(&mut *conn)
            .await
            .map(|_| ())
            .map_err(StoreError::from)))
    }
}

impl WriteTx {
    /// See [`Store::create_job`].
    pub async fn create_job(&mut self, job: &NewJob<'_>, now: i64) -> StoreResult<i64> {
        let sql = "INSERT INTO jobs (app_id, kind, status, actor, description, params, total, position, owner,
                                     heartbeat_at, created_at)
                   VALUES ($1, $2, 'queued', $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id";
        Ok(with_tx!(self, |conn| sqlx::query_scalar(sql)
            .bind(job.app_id)
            .bind(job.kind.as_str())
            .bind(job.actor)
            .bind(job.description)
            .bind(job.params)
            .bind(job.total)
            .bind(job.position)
            .bind(job.owner)
            .bind(now)
            .fetch_one(&mut *conn)
            .await)?)
    }

    /// Takes hold of `owner`'s running job for one chunk (PostgreSQL: its
    /// row stays locked until the chunk commits) and renews its heartbeat.
    /// False when the job is not `owner`'s any more, has ended, was asked to
    /// stop, or does not show the progress `done` its runner last wrote: the
    /// chunk must not be done. The last catches chunks the database lost
    /// (committed without a flush wait, then a crash) while the runner went
    /// on from its own place: the job is left to be taken over, from what
    /// the database kept.
    pub async fn hold_job(&mut self, job_id: i64, owner: &str, now: i64, done: i64) -> StoreResult<bool> {
        let sql = "UPDATE jobs SET heartbeat_at = $1
                   WHERE id = $2 AND owner = $3 AND status = 'running' AND NOT cancel_requested AND done = $4";
        let held = with_tx!(self, |conn| sqlx::query(sql)
            .bind(now)
            .bind(job_id)
            .bind(owner)
            .bind(done)
            .execute(&mut *conn)
            .await?
            .rows_affected());
        Ok(held == 1)
    }

    /// [`WriteTx::hold_job`] for a chunk written at the same time as the
    /// one before it: first waits for that chunk's transaction, which
    /// holds the job's row from its start (an update whose condition the
    /// row does not meet yet would not wait), then checks the count it
    /// committed. SQLite's single writer has already waited. The job's
    /// refusals so far when held.
    pub async fn hold_job_after(&mut self, job_id: i64, owner: &str, now: i64, done: i64) -> StoreResult<Option<i64>> {
        let sql = if self.is_postgres() {
            "SELECT refused FROM jobs WHERE id = $1 FOR UPDATE"
        } else {
            "SELECT refused FROM jobs WHERE id = $1"
        };
        let refused: Option<i64> =
            with_tx!(self, |conn| sqlx::query_scalar(sql).bind(job_id).fetch_optional(&mut *conn).await)?;
        Ok(if self.hold_job(job_id, owner, now, done).await? { refused } else { None })
    }

    /// Lets this transaction commit without waiting for the database's log
    /// to reach the disk (PostgreSQL's `synchronous_commit = off`, for this
    /// transaction only; SQLite's writer does not wait for it anyway). For a
    /// job's chunk, whose position is written with its effect: a crash of
    /// the database loses at most the last chunks, each with its position,
    /// and the job does them again. A chunk with an effect outside the
    /// database (the import's last, after which its file is removed) keeps
    /// the wait.
    pub async fn commit_without_flush_wait(&mut self) -> StoreResult<()> {
        if self.is_postgres() {
            let sql = "SET LOCAL synchronous_commit = off";
            with_tx!(self, |conn| sqlx::query(sql).execute(&mut *conn).await.map(|_| ()))?;
        }
        Ok(())
    }

    /// Adds a chunk's counts to the job (held by [`WriteTx::hold_job`]).
    pub async fn advance_job(&mut self, job_id: i64, chunk: &ChunkDone<'_>) -> StoreResult<()> {
        let sql = "UPDATE jobs SET done = done + $1, changed = changed + $2, unchanged = unchanged + $3,
                       refused = refused + $4, position = COALESCE($5, position)
                   WHERE id = $6";
        with_tx!(self, |conn| sqlx::query(sql)
            .bind(chunk.done)
            .bind(chunk.changed)
            .bind(chunk.unchanged)
            .bind(chunk.refused)
            .bind(chunk.position)
            .bind(job_id)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Sets the job's total (a selection read in full).
    pub async fn set_job_total(&mut self, job_id: i64, total: i64) -> StoreResult<()> {
        let sql = "UPDATE jobs SET total = $1 WHERE id = $2";
        with_tx!(self, |conn| sqlx::query(sql).bind(total).bind(job_id).execute(&mut *conn).await.map(|_| ()))?;
        Ok(())
    }

    /// Keeps an import's refused rows, up to [`MAX_KEPT_REFUSALS`] per job
    /// (the job's `refused` counts them all).
    pub async fn keep_refusals(&mut self, job_id: i64, refused_before: i64, rows: &[Refusal]) -> StoreResult<()> {
        let room = (MAX_KEPT_REFUSALS - refused_before).max(0) as usize;
        let kept = &rows[..rows.len().min(room)];
        let marks = self.marks();
        for chunk in chunks(kept) {
            let sql = format!(
                "INSERT INTO job_refusals (job_id, line, user_ref, reason) VALUES {} ON CONFLICT DO NOTHING",
                marks.values(chunk.len(), 4)
            );
            with_tx!(self, |conn| {
                let mut query = sqlx::query(&sql);
                for refusal in chunk {
                    query = query.bind(job_id).bind(refusal.line).bind(&refusal.user_ref).bind(&refusal.reason);
                }
                query.execute(&mut *conn).await.map(|_| ())
            })?;
        }
        Ok(())
    }
}
