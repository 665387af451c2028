//! Write transactions: every change to the database goes through one.
//!
//! [`write_tx!`] runs a block in ONE transaction, commits it, and when the
//! database reports contention (PostgreSQL deadlock `40P01` or serialization
//! failure `40001`; SQLite `SQLITE_BUSY` / `SQLITE_LOCKED`) rolls back and runs
//! the whole block again, a bounded number of times with a short jittered
//! backoff. When contention outlasts the retries the caller gets
//! [`StoreError::Busy`], which the ingest API answers with 503 and
//! `Retry-After`, and the console with a "try again" message — never a 500.
//!
//! Why each backend begins the way it does:
//! - SQLite takes the write lock when the transaction begins (`BEGIN
//!   IMMEDIATE`) on a dedicated one-connection writer pool. A deferred
//!   transaction that reads first and then writes cannot upgrade while
//!   another connection writes, and fails at once with `SQLITE_BUSY` (no busy
//!   timeout waits that out). Queueing writers on the pool in-process is
//!   fairer and faster than SQLite's sleeping busy handler; the busy timeout
//!   stays for writers in other processes (the CLI).
//! - PostgreSQL uses the ordinary pool and `READ COMMITTED`; write paths lock
//!   rows in id order so concurrent batches do not deadlock, and the retry
//!   covers what remains.
//!
//! The block must not open another write transaction (on SQLite that would
//! wait for the one writer connection it already holds).

use std::future::Future;
use std::time::{Duration, Instant};

use sqlx::{Postgres, Sqlite, Transaction};

use super::batch::{chunks, Marks};
use crate::store::{Backend, Store, StoreError, StoreResult};

/// An open write transaction on either backend. Store write methods are
/// defined on it (`tx.record_audit(..)`, `tx.store_events(..)`, ...) so that
/// a change and its audit row commit together; dropping it rolls back.
pub struct WriteTx {
    pub(crate) inner: TxInner,
}

pub(crate) enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$conn` bound to the transaction's connection
/// (`&mut SqliteConnection` or `&mut PgConnection`; use `&mut *$conn` as the
/// executor). Like [`with_pool!`](crate::store::with_pool), the body is compiled once
/// per backend, so each statement is written once for both.
macro_rules! with_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match &mut $tx.inner {
            $crate::store::tx::TxInner::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::store::tx::TxInner::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}
pub(crate) use with_tx;

/// Runs `$body` (an expression that may `.await`, use `?` and `return`, and
/// evaluates to `StoreResult<T>`) with `$tx: &mut WriteTx`, commits, and
/// retries the whole body on contention. Evaluates to `StoreResult<T>`.
///
/// ```ignore
/// let id = write_tx!(store, |tx| {
///     let id = tx.insert_message(app_id, user_id, &message).await?;
///     tx.record_audit(&audit, now).await?;
///     Ok(id)
/// })?;
/// ```
///
/// A macro rather than a method taking an async closure: with rustc 1.95 the
/// future of a generic `AsyncFnMut` (or a boxed `for<'t> FnMut`) cannot be
/// shown `Send` while it borrows the caller's locals, and axum handlers need
/// `Send`. The body may run more than once, so it must not have effects
/// outside the database. Exported (`app::store::write_tx!`) for the server's
/// CLI and services.
#[macro_export]
macro_rules! write_tx {
    ($store:expr, |$tx:ident| $body:expr) => {{
        let store: &$crate::store::Store = &$store;
        let mut retry = $crate::store::tx::Retry::new();
        loop {
            let attempt = $crate::store::tx::typed(async {
                let mut write = store.begin_write().await?;
                let value = $crate::store::tx::typed(async {
                    let $tx = &mut write;
                    $body
                })
                .await?;
                write.commit().await?;
                Ok(value)
            })
            .await;
            match attempt {
                Ok(value) => break Ok(value),
                Err(err) => {
                    if let Err(err) = retry.again(err).await {
                        break Err(err);
                    }
                }
            }
        }
    }};
}

/// Fixes the output type of an async block to `StoreResult<T>` so `?` inside
/// it converts to [`StoreError`].
#[doc(hidden)]
pub async fn typed<T>(future: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
    future.await
}

/// Attempts of one write transaction before answering [`StoreError::Busy`].
pub const MAX_ATTEMPTS: u32 = 5;
/// No retry starts after this long (a SQLite busy timeout alone can take 10 s).
const RETRY_WINDOW: Duration = Duration::from_secs(10);

/// The retry policy of [`write_tx!`].
#[doc(hidden)]
pub struct Retry {
    attempts: u32,
    started: Instant,
}

impl Retry {
    pub fn new() -> Retry {
        Retry { attempts: 1, started: Instant::now() }
    }

    /// `Ok(())` after a short random backoff when `err` is contention and an
    /// attempt is left; otherwise the error to return (contention becomes
    /// [`StoreError::Busy`]).
    pub async fn again(&mut self, err: StoreError) -> StoreResult<()> {
        if !err.is_contention() {
            return Err(err);
        }
        if self.attempts >= MAX_ATTEMPTS || self.started.elapsed() > RETRY_WINDOW {
            tracing::warn!(error = %err, attempts = self.attempts, "write transaction gave up on contention");
            metrics::counter!(crate::metrics::DB_BUSY).increment(1);
            return Err(StoreError::Busy(err.to_string()));
        }
        // 0–5 ms, 0–10 ms, 0–20 ms, 0–40 ms: spreads the retries of
        // transactions that met each other.
        let ceiling = 5u64 << (self.attempts - 1);
        tracing::debug!(error = %err, attempt = self.attempts, "write transaction retried after contention");
        self.attempts += 1;
        metrics::counter!(crate::metrics::DB_WRITE_RETRIES).increment(1);
        tokio::time::sleep(Duration::from_millis(rand::random_range(0..=ceiling))).await;
        Ok(())
    }
}

impl Default for Retry {
    fn default() -> Self {
        Retry::new()
    }
}

impl StoreError {
    /// True when the database refused because of other transactions
    /// (deadlock, serialization failure, lock held) and trying again can work.
    /// [`StoreError::Busy`] is not: it is what remains after the retries.
    pub fn is_contention(&self) -> bool {
        match self {
            // Waiting for a connection already took the pool's acquire timeout.
            StoreError::Db(sqlx::Error::PoolTimedOut) => true,
            StoreError::Db(sqlx::Error::Database(db)) => {
                if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                    matches!(pg.code(), "40P01" | "40001")
                } else if let Some(lite) = db.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
                    use sqlx::error::DatabaseError;
                    // Primary result code (low byte of the extended one):
                    // 5 SQLITE_BUSY, 6 SQLITE_LOCKED.
                    lite.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| matches!(c & 0xff, 5 | 6))
                } else {
                    false
                }
            }
            _ => false,
        }
    }
}

impl Store {
    /// Begins a write transaction (see the module docs for why SQLite's is
    /// `BEGIN IMMEDIATE`). Prefer [`write_tx!`], which commits and retries.
    pub async fn begin_write(&self) -> StoreResult<WriteTx> {
        let waited = Instant::now();
        let inner = match &self.writer {
            Backend::Sqlite(pool) => TxInner::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres(pool) => TxInner::Postgres(pool.begin().await?),
        };
        metrics::histogram!(crate::metrics::DB_WRITE_WAIT).record(waited.elapsed());
        Ok(WriteTx { inner })
    }
}

impl WriteTx {
    /// How this backend's generated placeholder lists are written.
    pub(crate) fn marks(&self) -> Marks {
        match self.inner {
            TxInner::Sqlite(_) => Marks::Anonymous,
            TxInner::Postgres(_) => Marks::Numbered,
        }
    }

    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self.inner, TxInner::Postgres(_))
    }

    /// ` FOR KEY SHARE` on PostgreSQL, nothing on SQLite: what a look-up
    /// appends to lock the rows it found as a foreign key's check would,
    /// where a table has no foreign key (0019, 0025, 0029). SQLite has one
    /// writer at a time, and keeps its foreign keys.
    pub(crate) fn key_share_lock(&self) -> &'static str {
        if self.is_postgres() {
            " FOR KEY SHARE"
        } else {
            ""
        }
    }

    pub async fn commit(self) -> StoreResult<()> {
        match self.inner {
            TxInner::Sqlite(tx) => tx.commit().await?,
            TxInner::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// Tables whose rows batch writes lock explicitly (see [`WriteTx::lock_in_id_order`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Locked {
    Users,
    Devices,
}

impl WriteTx {
    /// Locks the rows `ids` (sorted ascending) of `table` in that order, so
    /// that transactions updating overlapping sets of rows queue behind each
    /// other instead of deadlocking; an `UPDATE … FROM` alone locks in
    /// whatever order its plan visits rows. Only PostgreSQL needs it (and has
    /// `FOR NO KEY UPDATE`): a SQLite write transaction already holds the
    /// database's one write lock. Returns how many of the rows exist (on
    /// SQLite all of them: no other writer can have deleted one).
    pub(crate) async fn lock_in_id_order(&mut self, table: Locked, ids: &[i64]) -> StoreResult<usize> {
        debug_assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids sorted and distinct");
        let TxInner::Postgres(tx) = &mut self.inner else { return Ok(ids.len()) };
        let sql = match table {
            Locked::Users => "SELECT id FROM users WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE",
            Locked::Devices => "SELECT id FROM devices WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE",
        };
        let locked = sqlx::query_scalar::<_, i64>(sql).bind(ids).fetch_all(&mut **tx).await?;
        Ok(locked.len())
    }
}

/// A statement on SQLite, with its bound values.
pub(crate) type SqliteQuery<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

impl WriteTx {
    /// Runs a multi-row statement per [`chunks`] chunk of `rows` on SQLite,
    /// and answers the rows written. `sql(n)` is the statement for `n` rows
    /// (its placeholders from [`Marks::values_after`]), `head` binds the
    /// values ahead of the rows (the same in each statement), `bind` one
    /// row's values.
    ///
    /// A chunk's values are bound while the statement before runs on the
    /// connection's thread, so the one writer does not wait for them (a
    /// 256-row statement binds over a thousand values). Bind owned values
    /// (a `String`, not a `&str`): a borrowed one is copied when the
    /// statement is sent, outside that overlap.
    pub(crate) async fn sqlite_rows<T>(
        &mut self,
        rows: &[T],
        sql: impl Fn(usize) -> String,
        head: impl for<'q> Fn(SqliteQuery<'q>) -> SqliteQuery<'q>,
        bind: impl for<'q> Fn(SqliteQuery<'q>, &'q T) -> SqliteQuery<'q>,
    ) -> StoreResult<u64> {
        let TxInner::Sqlite(tx) = &mut self.inner else {
            return Err(StoreError::Unavailable("a SQLite statement on PostgreSQL".into()));
        };
        let parts: Vec<&[T]> = chunks(rows).collect();
        let texts: Vec<String> = parts.iter().map(|part| sql(part.len())).collect();
        let build = |n: usize| {
            let query = head(sqlx::query(texts[n].as_str()));
            parts[n].iter().fold(query, &bind)
        };
        let mut written = 0;
        let mut next = (!parts.is_empty()).then(|| build(0));
        let mut n = 0;
        while let Some(query) = next.take() {
            n += 1;
            let mut running = std::pin::pin!(query.execute(&mut **tx));
            // The first poll sends the statement to the connection's thread.
            let first = futures::poll!(running.as_mut());
            next = (n < parts.len()).then(|| build(n));
            let done = match first {
                std::task::Poll::Ready(done) => done,
                std::task::Poll::Pending => running.await,
            };
            written += done?.rows_affected();
        }
        Ok(written)
    }
}
