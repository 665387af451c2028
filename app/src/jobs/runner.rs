//! The job runner's loop: each instance runs one job at a time, a chunk per
//! transaction. It claims the oldest unfinished job (see `store/jobs.rs`),
//! works through it, and between chunks checks whether it was asked to
//! stop. A new job wakes it; otherwise it looks every few seconds, which
//! is also how it finds a job whose instance stopped.

use std::time::Duration;

use super::model::{JobKind, JobStatus};
use super::step::Step;
use crate::background::Jobs;
use crate::store::{ClaimedJob, Store, StoreError};
use crate::time::now_ms;

/// How one turn on a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// The job has more to do (the turn's chunk budget ran out).
    More,
    /// The job ended with this status.
    Ended(JobStatus),
    /// Another runner has the job now, or this instance is stopping.
    Left,
}

/// Runs the instance's jobs until [`Jobs::stop`].
pub fn spawn(jobs: &Jobs, store: Store) -> tokio::task::JoinHandle<()> {
    let jobs = jobs.clone();
    tokio::spawn(async move {
        while !jobs.stopping() {
            match run_next(&jobs, &store, None).await {
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(err) => tracing::warn!("cannot claim a job: {err}"),
            }
            tokio::select! {
                () = jobs.woken() => {}
                () = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
        }
    })
}

/// Claims the next job and works on it, for at most `max_chunks` chunks
/// when given (tests stop a job half-way this way, as if the instance had
/// stopped). `None` when no job was waiting.
pub async fn run_next(
    jobs: &Jobs,
    store: &Store,
    max_chunks: Option<usize>,
) -> Result<Option<(i64, Turn)>, StoreError> {
    let now = now_ms();
    let stale_before = now - jobs.config().stale_after.as_millis() as i64;
    let Some(claimed) = store.claim_job(jobs.owner(), now, stale_before).await? else {
        return Ok(None);
    };
    let id = claimed.job.id;
    let span = tracing::info_span!("job", id, kind = claimed.job.kind.as_str(), app_id = claimed.job.app_id);
    let turn = tracing::Instrument::instrument(work(jobs, store, claimed, max_chunks), span).await;
    Ok(Some((id, turn)))
}

async fn work(jobs: &Jobs, store: &Store, claimed: ClaimedJob, max_chunks: Option<usize>) -> Turn {
    let id = claimed.job.id;
    if claimed.job.cancel_requested {
        return end(jobs, store, id, JobStatus::Cancelled, None).await;
    }
    let mut job = match JobWork::open(jobs, claimed).await {
        Ok(job) => job,
        Err(message) => return end(jobs, store, id, JobStatus::Failed, Some(&message)).await,
    };
    let mut chunks = 0;
    loop {
        if jobs.stopping() {
            if let Err(err) = store.release_job(id, jobs.owner()).await {
                tracing::warn!("cannot hand the job back: {err}");
            }
            return Turn::Left;
        }
        if max_chunks.is_some_and(|max| chunks >= max) {
            return Turn::More;
        }
        let room = max_chunks.map_or(usize::MAX, |max| max.saturating_sub(chunks));
        let step = match job.step(store, jobs.owner(), room).await {
            Ok((step, written)) => {
                chunks += written;
                step
            }
            // Busy or unreachable: nothing of the chunk was written; the
            // same chunk is tried again.
            Err(err) if matches!(err, StoreError::Busy(_)) || err.is_unavailable() => {
                tracing::warn!("job chunk not written, trying again: {err}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            Err(err) => Step::Failed(err.to_string()),
        };
        match step {
            Step::More => {}
            Step::Finished => return end(jobs, store, id, JobStatus::Done, None).await,
            Step::Failed(message) => {
                tracing::error!("job failed: {message}");
                return end(jobs, store, id, JobStatus::Failed, Some(&message)).await;
            }
            Step::Lost => {
                return match store.job(job.app_id(), id).await {
                    Ok(Some(now)) if now.cancel_requested && !now.status.is_finished() => {
                        end(jobs, store, id, JobStatus::Cancelled, None).await
                    }
                    _ => Turn::Left,
                }
            }
        }
    }
}

async fn end(jobs: &Jobs, store: &Store, id: i64, status: JobStatus, error: Option<&str>) -> Turn {
    match store.finish_job(id, jobs.owner(), status, error, now_ms()).await {
        Ok(()) => {
            tracing::info!(status = status.as_str(), "job ended");
            Turn::Ended(status)
        }
        Err(err) => {
            tracing::warn!("cannot record the job's end: {err}");
            Turn::Left
        }
    }
}

/// A claimed job, ready to take its next step.
enum JobWork {
    Bulk(Box<super::bulk::BulkWork>),
    Import(Box<super::import_work::ImportWork>),
}

impl JobWork {
    async fn open(jobs: &Jobs, claimed: ClaimedJob) -> Result<JobWork, String> {
        match claimed.job.kind {
            JobKind::ImportCheck | JobKind::Import => {
                let work =
                    super::import_work::ImportWork::open(jobs.import_dir(), claimed, jobs.config().chunk_rows).await?;
                Ok(JobWork::Import(Box::new(work)))
            }
            _ => Ok(JobWork::Bulk(Box::new(super::bulk::BulkWork::open(claimed, jobs.config().chunk_users)?))),
        }
    }

    fn app_id(&self) -> i64 {
        match self {
            JobWork::Bulk(work) => work.app_id(),
            JobWork::Import(work) => work.app_id(),
        }
    }

    /// The next step, writing at most `room` chunks: how it went, and how
    /// many chunks it wrote.
    async fn step(&mut self, store: &Store, owner: &str, room: usize) -> Result<(Step, usize), StoreError> {
        match self {
            JobWork::Bulk(work) => Ok((work.step(store, owner).await?, 1)),
            JobWork::Import(work) => work.step(store, owner, room).await,
        }
    }
}
