//! SQLite: copying the WAL back into the database file off the writer.
//!
//! In WAL mode each commit appends the pages it changed to the WAL, and a
//! checkpoint copies them into the database file (and syncs it). SQLite runs
//! that checkpoint in the connection whose commit crossed the threshold: here
//! the one writer, so ingest stopped for it — 55–137 ms once every
//! ~20,000 pages, a fifth to a third of the writer's time under `server bench
//! ingest`. A task of its own, on a connection of its own, checkpoints
//! (PASSIVE: it never blocks the writer or a reader) on SQLite's connection
//! thread, i.e. on the other core: right after each group of event batches
//! commits ([`BackgroundCheckpoints::after_commit`]), and every
//! [`CHECKPOINT_EVERY`] for the other writes.
//!
//! Why right after a commit: run only on the timer (session 17), it was
//! mostly still copying when the next group committed, so the WAL reached
//! the writer's threshold every fourth group of 16 batches and the writer
//! stopped for its own checkpoint (110–180 ms, a checkpoint must sync the
//! pages it copied). Started by the commit, it copies that commit's pages
//! while the writer builds the next group, and the writer's own checkpoint,
//! kept as the bound on the WAL's size, has little left to copy and comes
//! five times less often (`WAL_CHECKPOINT_PAGES`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

/// How often the background checkpoint runs.
pub(crate) const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// The background checkpoint task; it stops when this is dropped (with the
/// last clone of its store).
pub(crate) struct BackgroundCheckpoints {
    task: tokio::task::JoinHandle<()>,
    committed: Arc<Notify>,
    /// Checkpoints run so far (tests).
    #[cfg(test)]
    runs: Arc<AtomicU64>,
}

impl Drop for BackgroundCheckpoints {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl BackgroundCheckpoints {
    /// Starts checkpointing the database of `options` (its own connection,
    /// opened now so that a failure shows at start).
    pub(crate) async fn start(options: &SqliteConnectOptions) -> Result<BackgroundCheckpoints, sqlx::Error> {
        Self::start_every(options, CHECKPOINT_EVERY).await
    }

    /// [`BackgroundCheckpoints::start`] with its timer at `every`.
    async fn start_every(
        options: &SqliteConnectOptions,
        every: Duration,
    ) -> Result<BackgroundCheckpoints, sqlx::Error> {
        let mut conn = options.connect().await?;
        let committed = Arc::new(Notify::new());
        let runs = Arc::new(AtomicU64::new(0));
        let (woken, counted) = (committed.clone(), runs.clone());
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                // A commit during a checkpoint leaves a permit: the next
                // one starts as soon as this one is done.
                tokio::select! {
                    _ = ticks.tick() => {}
                    () = woken.notified() => ticks.reset(),
                }
                let done: Result<(i64, i64, i64), _> =
                    sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&mut conn).await;
                match done {
                    Ok((_busy, wal_pages, copied)) => {
                        counted.fetch_add(1, Ordering::Relaxed);
                        tracing::trace!(wal_pages, copied, "background checkpoint");
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "background checkpoint failed; the writer's own checkpoints go on");
                        if conn.ping().await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
        Ok(BackgroundCheckpoints {
            task,
            committed,
            #[cfg(test)]
            runs,
        })
    }

    /// A large commit just landed in the WAL: copy it back now, before the
    /// next one.
    pub(crate) fn after_commit(&self) {
        self.committed.notify_one();
    }

    /// Checkpoints run so far.
    #[cfg(test)]
    fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;
    use std::time::Duration;

    use sqlx::sqlite::SqliteConnectOptions;

    use super::{BackgroundCheckpoints, CHECKPOINT_EVERY};
    use crate::store::{testing, BulkUser};

    #[tokio::test]
    async fn a_commit_starts_a_checkpoint_without_waiting_for_the_timer() {
        let store = testing::sqlite().await;
        let path = store.database_file().expect("a SQLite file");
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display())).unwrap();
        // The timer's first tick is at once; the next would be in an hour.
        let checkpoints = BackgroundCheckpoints::start_every(&options, Duration::from_secs(3_600)).await.unwrap();
        let mut waited = 0;
        while checkpoints.runs() < 1 && waited < 100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            waited += 1;
        }
        assert_eq!(checkpoints.runs(), 1, "the first tick's checkpoint");

        checkpoints.after_commit();
        while checkpoints.runs() < 2 && waited < 200 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            waited += 1;
        }
        assert_eq!(checkpoints.runs(), 2, "no checkpoint followed the commit");
    }

    /// The database file's size: pages reach it only through a checkpoint.
    fn file_size(path: &std::path::Path) -> u64 {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    }

    #[tokio::test]
    async fn the_wal_is_copied_back_without_the_writer() {
        let store = testing::sqlite().await;
        let path = store.database_file().expect("a SQLite file").to_path_buf();
        // Whatever the migrations left in the WAL is copied back first.
        tokio::time::sleep(3 * CHECKPOINT_EVERY).await;
        let before = file_size(&path);

        // A few hundred pages: far under the writer's own threshold
        // (`wal_autocheckpoint`, 100,000 pages), so only another connection's
        // checkpoint brings them into the database file.
        let app = store.create_app("Checkpoints", "hash", 1).await.unwrap();
        let users: Vec<BulkUser> = (0..3_000)
            .map(|i| BulkUser {
                external_id: format!("user-{i}"),
                user_name: Some(format!("User number {i}")),
                email: Some(format!("user{i}@example.com")),
                created_at: 1,
                last_seen_at: None,
            })
            .collect();
        store.bulk_insert_users(app.id, &users).await.unwrap();

        let mut waited = 0;
        while file_size(&path) <= before && waited < 50 {
            tokio::time::sleep(CHECKPOINT_EVERY / 2).await;
            waited += 1;
        }
        let after = file_size(&path);
        assert!(after > before, "the database file stayed at {before} bytes: no checkpoint copied the WAL back");
    }
}
