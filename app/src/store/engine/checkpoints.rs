//! SQLite: copying the WAL back into the database file off the writer.
//!
//! In WAL mode each commit appends the pages it changed to the WAL, and a
//! checkpoint copies them into the database file (and syncs it). SQLite runs
//! that checkpoint in the connection whose commit crossed the threshold: here
//! the one writer, so ingest would stop for tens of milliseconds at every
//! threshold, a large share of the writer's time under sustained ingest. A task of its own, on a connection of its own, checkpoints
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
//! Running it more often (or after every commit) copies the same pages over
//! and over, CPU that the writer and the HTTP requests share on a small
//! machine; much less often, and the writer's own threshold is reached
//! first. `server bench ingest` is how to weigh a change here.

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
