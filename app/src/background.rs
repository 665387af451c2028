//! The instance's job runner as the rest of the server sees it: its
//! settings, its name in `jobs.owner`, and the wake-up and stop signals.
//! The runner's loop and the jobs' work are `crate::jobs`; the server's
//! state holds this handle, so starting a job wakes the runner without the
//! state depending on what jobs do.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

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

impl Jobs {
    pub fn new(config: JobsConfig) -> Jobs {
        let owner = format!("{:016x}", rand::random::<u64>());
        Jobs(Arc::new(Inner { owner, config, wake: Notify::new(), stopping: AtomicBool::new(false) }))
    }

    pub fn owner(&self) -> &str {
        &self.0.owner
    }

    pub fn config(&self) -> &JobsConfig {
        &self.0.config
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

    /// Waits for [`Jobs::wake`] (or [`Jobs::stop`]).
    pub async fn woken(&self) {
        self.0.wake.notified().await;
    }

    /// Stops after the current chunk and hands the job back.
    pub fn stop(&self) {
        self.0.stopping.store(true, Ordering::Relaxed);
        self.0.wake.notify_one();
    }

    pub fn stopping(&self) -> bool {
        self.0.stopping.load(Ordering::Relaxed)
    }
}
