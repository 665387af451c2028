//! The job runner: each instance runs one job at a time, a chunk per
//! transaction. It claims the oldest unfinished job (see `store/jobs.rs`),
//! works through it, and between chunks checks whether it was asked to
//! stop. A new job wakes it; otherwise it looks every few seconds, which
//! is also how it finds a job whose instance stopped.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::model::{JobKind, JobStatus};
use crate::store::{ClaimedJob, Store, StoreError};
use crate::time::now_ms;

/// How the runner of an instance is set up.
#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// Where uploaded CSV files wait for their import.
    pub import_dir: PathBuf,
    /// The largest upload accepted, in bytes.
    pub max_upload_bytes: u64,
    /// A running job whose runner has not committed a chunk for this long
    /// is taken over by another runner (its instance stopped).
    pub stale_after: Duration,
    /// Users a bulk action acts on per transaction (a deletion: at most
    /// 50, as each user's rows are erased one by one).
    pub chunk_users: i64,
    /// Rows of a CSV file per transaction.
    pub chunk_rows: usize,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            import_dir: PathBuf::from("data/imports"),
            max_upload_bytes: 2 * 1024 * 1024 * 1024,
            stale_after: Duration::from_secs(30),
            chunk_users: 5_000,
            chunk_rows: 1_000,
        }
    }
}

/// The instance's job runner, shared by the server functions that start
/// jobs (they wake it) and the task that runs them.
#[derive(Clone)]
pub struct Jobs(Arc<Inner>);

struct Inner {
    /// This runner's name in `jobs.owner`: random per process.
    owner: String,
    config: JobsConfig,
    wake: Notify,
    stopping: AtomicBool,
}

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

/// What a job's step (a chunk) says about the job.
pub(crate) enum Step {
    More,
    Finished,
    /// The job's hold was lost: cancelled, or taken over.
    Lost,
    Failed(String),
}

impl Jobs {
    pub fn new(config: JobsConfig) -> Jobs {
        let owner = format!("{:016x}", rand::random::<u64>());
        Jobs(Arc::new(Inner { owner, config, wake: Notify::new(), stopping: AtomicBool::new(false) }))
    }

    pub fn owner(&self) -> &str {
        &self.0.owner
    }

    pub fn import_dir(&self) -> &Path {
        &self.0.config.import_dir
    }

    pub fn max_upload_bytes(&self) -> u64 {
        self.0.config.max_upload_bytes
    }

    /// A job was created: look now rather than at the next tick.
    pub fn wake(&self) {
        self.0.wake.notify_one();
    }

    /// Stops after the current chunk and hands the job back.
    pub fn stop(&self) {
        self.0.stopping.store(true, Ordering::Relaxed);
        self.0.wake.notify_one();
    }

    fn stopping(&self) -> bool {
        self.0.stopping.load(Ordering::Relaxed)
    }

    /// Runs jobs until [`Jobs::stop`].
    pub fn spawn(&self, store: Store) -> tokio::task::JoinHandle<()> {
        let jobs = self.clone();
        tokio::spawn(async move {
            while !jobs.stopping() {
                match jobs.run_next(&store, None).await {
                    Ok(Some(_)) => continue,
                    Ok(None) => {}
                    Err(err) => tracing::warn!("cannot claim a job: {err}"),
                }
                tokio::select! {
                    () = jobs.0.wake.notified() => {}
                    () = tokio::time::sleep(Duration::from_secs(2)) => {}
                }
            }
        })
    }

    /// Claims the next job and works on it, for at most `max_chunks`
    /// chunks when given (tests stop a job half-way this way, as if the
    /// instance had stopped). `None` when no job was waiting.
    pub async fn run_next(&self, store: &Store, max_chunks: Option<usize>) -> Result<Option<(i64, Turn)>, StoreError> {
        let now = now_ms();
        let stale_before = now - self.0.config.stale_after.as_millis() as i64;
        let Some(claimed) = store.claim_job(self.owner(), now, stale_before).await? else {
            return Ok(None);
        };
        let id = claimed.job.id;
        let span = tracing::info_span!("job", id, kind = claimed.job.kind.as_str(), app_id = claimed.job.app_id);
        let turn = tracing::Instrument::instrument(self.work(store, claimed, max_chunks), span).await;
        Ok(Some((id, turn)))
    }

    async fn work(&self, store: &Store, claimed: ClaimedJob, max_chunks: Option<usize>) -> Turn {
        let id = claimed.job.id;
        if claimed.job.cancel_requested {
            return self.end(store, id, JobStatus::Cancelled, None).await;
        }
        let mut job = match JobWork::open(self, claimed).await {
            Ok(job) => job,
            Err(message) => return self.end(store, id, JobStatus::Failed, Some(&message)).await,
        };
        let mut chunks = 0;
        loop {
            if self.stopping() || max_chunks.is_some_and(|max| chunks >= max) {
                if self.stopping() {
                    if let Err(err) = store.release_job(id, self.owner()).await {
                        tracing::warn!("cannot hand the job back: {err}");
                    }
                    return Turn::Left;
                }
                return Turn::More;
            }
            let step = match job.step(store, self.owner()).await {
                Ok(step) => step,
                // Busy or unreachable: nothing of the chunk was written;
                // the same chunk is tried again.
                Err(err) if matches!(err, StoreError::Busy(_)) || err.is_unavailable() => {
                    tracing::warn!("job chunk not written, trying again: {err}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
                Err(err) => Step::Failed(err.to_string()),
            };
            chunks += 1;
            match step {
                Step::More => {}
                Step::Finished => return self.end(store, id, JobStatus::Done, None).await,
                Step::Failed(message) => {
                    tracing::error!("job failed: {message}");
                    return self.end(store, id, JobStatus::Failed, Some(&message)).await;
                }
                Step::Lost => {
                    return match store.job(job.app_id(), id).await {
                        Ok(Some(now)) if now.cancel_requested && !now.status.is_finished() => {
                            self.end(store, id, JobStatus::Cancelled, None).await
                        }
                        _ => Turn::Left,
                    }
                }
            }
        }
    }

    async fn end(&self, store: &Store, id: i64, status: JobStatus, error: Option<&str>) -> Turn {
        match store.finish_job(id, self.owner(), status, error, now_ms()).await {
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
}

/// A claimed job, ready to take its next step.
enum JobWork {
    Bulk(super::bulk::BulkWork),
    Import(Box<super::import::ImportWork>),
}

impl JobWork {
    async fn open(jobs: &Jobs, claimed: ClaimedJob) -> Result<JobWork, String> {
        match claimed.job.kind {
            JobKind::ImportCheck | JobKind::Import => {
                let work =
                    super::import::ImportWork::open(jobs.import_dir(), claimed, jobs.0.config.chunk_rows).await?;
                Ok(JobWork::Import(Box::new(work)))
            }
            _ => Ok(JobWork::Bulk(super::bulk::BulkWork::open(claimed, jobs.0.config.chunk_users)?)),
        }
    }

    fn app_id(&self) -> i64 {
        match self {
            JobWork::Bulk(work) => work.app_id(),
            JobWork::Import(work) => work.app_id(),
        }
    }

    async fn step(&mut self, store: &Store, owner: &str) -> Result<Step, StoreError> {
        match self {
            JobWork::Bulk(work) => work.step(store, owner).await,
            JobWork::Import(work) => work.step(store, owner).await,
        }
    }
}
