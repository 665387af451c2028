//! SQLite: copying the WAL back into the database file off the writer.
//!
//! In WAL mode each commit appends the pages it changed to the WAL, and a
//! checkpoint copies them into the database file (and syncs it). SQLite runs
//! that checkpoint in the connection whose commit crossed the threshold: here
//! the one writer, so ingest stopped for it — 55–137 ms once every
//! ~20,000 pages, a fifth to a third of the writer's time under `server bench
//! ingest`. A task of its own, on a connection of its own, checkpoints
//! (PASSIVE: it never blocks the writer or a reader) every
//! [`CHECKPOINT_EVERY`], on SQLite's connection thread, i.e. on the other
//! core. The writer keeps its own automatic checkpoint: a WAL can only start
//! over from its beginning after a checkpoint that caught up with every
//! commit, which one running beside a busy writer rarely does; the writer's
//! then finds most pages already copied.
//!
//! Why once a second: the pages a burst of ingest changes are mostly the
//! same from one commit to the next (the index leaves of the same users),
//! and a checkpoint copies each page once however many commits changed it.
//! Every 200 ms (session 17), or after every commit, it copied the same
//! pages over and over, a quarter of a core that the writer and the HTTP
//! requests share on a small machine. `server bench ingest`, 16 clients ×
//! 500, 300,000 events into the 10M-event bench database, runs alternated:
//! 39,101 / 41,442 events/s every 200 ms with the writer's threshold at
//! 20,000 pages (session 17); 41,523 / 43,462 every 200 ms and 44,456 /
//! 40,511 after every commit, at 100,000 pages; 47,704 / 45,403 / 43,353 /
//! 43,638 once a second (its thread's CPU 0.9 s → 0.16 s), 47,251 / 46,084
//! every 2 s. A million events in a row: 42,415 events/s.

use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

/// How often the background checkpoint runs.
pub(crate) const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// The background checkpoint task; it stops when this is dropped (with the
/// last clone of its store).
pub(crate) struct BackgroundCheckpoints(tokio::task::JoinHandle<()>);

impl Drop for BackgroundCheckpoints {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl BackgroundCheckpoints {
    /// Starts checkpointing the database of `options` (its own connection,
    /// opened now so that a failure shows at start).
    pub(crate) async fn start(options: &SqliteConnectOptions) -> Result<BackgroundCheckpoints, sqlx::Error> {
        let mut conn = options.connect().await?;
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(CHECKPOINT_EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let done: Result<(i64, i64, i64), _> =
                    sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&mut conn).await;
                match done {
                    Ok((_busy, wal_pages, copied)) => {
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
        Ok(BackgroundCheckpoints(task))
    }
}

#[cfg(test)]
mod tests {
    use super::CHECKPOINT_EVERY;
    use crate::store::{testing, BulkUser};

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
