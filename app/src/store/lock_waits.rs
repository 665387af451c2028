//! Test support for races: knowing that writes are queued behind an open
//! transaction before it commits, rather than hoping a sleep was enough.

use std::time::{Duration, Instant};

use super::{with_pool, Store, StoreResult, WriteTx};

/// How long [`Store::until_blocked_by`] waits for the writes to queue.
const QUEUE_WAIT: Duration = Duration::from_secs(20);

/// The backend process of a PostgreSQL transaction, which the writes
/// waiting for its locks name in `pg_blocking_pids`; SQLite has none (its
/// writers wait for the one writer inside this process).
#[derive(Debug, Clone, Copy)]
pub struct Holder(Option<i32>);

impl WriteTx {
    /// This transaction, as the writes that wait for it see it.
    pub async fn as_holder(&mut self) -> StoreResult<Holder> {
        if !self.is_postgres() {
            return Ok(Holder(None));
        }
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut **self.postgres()?).await?;
        Ok(Holder(Some(pid)))
    }
}

impl Store {
    /// Returns once `count` connections wait for `holder`'s row locks
    /// (PostgreSQL). On SQLite, whose queue for the one writer cannot be
    /// read from outside, it waits half a second.
    ///
    /// # Panics
    /// When they do not queue within [`QUEUE_WAIT`]: a race test that did
    /// not race.
    pub async fn until_blocked_by(&self, holder: Holder, count: usize) -> StoreResult<()> {
        let Holder(Some(pid)) = holder else {
            tokio::time::sleep(Duration::from_millis(500)).await;
            return Ok(());
        };
        // Only waits for rows (a transaction's or a tuple's lock), not for
        // advisory locks, which every test schema's app 1 shares; the
        // waiting backends are picked first, as `pg_blocking_pids` is
        // costly on every backend of a busy test cluster.
        let sql = "WITH waiting AS MATERIALIZED (
                       SELECT pid FROM pg_stat_activity
                       WHERE wait_event_type = 'Lock' AND wait_event IN ('transactionid', 'tuple'))
                   SELECT COUNT(*) FROM waiting WHERE $1 = ANY(pg_blocking_pids(pid))";
        let started = Instant::now();
        loop {
            let waiting: i64 = with_pool!(self, |pool| sqlx::query_scalar(sql).bind(pid).fetch_one(pool).await)?;
            if waiting >= count as i64 {
                return Ok(());
            }
            assert!(started.elapsed() < QUEUE_WAIT, "{waiting} of {count} writes wait for the holder");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}
