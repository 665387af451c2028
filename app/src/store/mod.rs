//! The only place with SQL. One API over SQLite (embedded default) and
//! PostgreSQL: every query is written once, in portable SQL with `$n`
//! placeholders, and [`with_pool!`] compiles it for each backend. Only the DDL
//! differs (`app/migrations/{sqlite,postgres}`).

mod activity;
mod admins;
mod app_events;
mod apps;
mod batch;
mod bulk;
mod bulk_load;
mod bulk_seed;
mod checkpoints;
mod deliveries;
mod device_reads;
mod devices;
mod erasure;
mod event_groups;
mod event_hours;
mod event_keys;
mod event_rows;
mod event_search;
mod events;
mod export;
mod messages;
mod partitions;
mod pg_pool;
mod rate_limits;
mod segments;
mod sessions;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
mod timeline;
pub mod tx;
#[cfg(test)]
mod tx_tests;
mod user_list;
mod users;

/// See [`tx`](mod@tx): one write transaction, committed, retried on contention.
pub use crate::write_tx;
pub use activity::MOVED_PREFIX;
pub use admins::{AdminRecord, NewAudit};
pub use bulk::{BulkEvent, BulkUser};
pub use bulk_load::Cell;
pub use bulk_seed::BulkDevice;
pub use deliveries::{InboxMessage, Opened, MESSAGES_PREFIX};
pub use devices::{DeviceInput, LocationInput};
pub use erasure::{Erased, Leftover, ReferenceColumn};
pub use event_hours::{hour_of, HourCounts, HOUR_MS};
pub use event_search::{contains_pattern, EventPosition, FoundEvents, SCAN_BUDGET, TYPES_LIMIT};
pub use events::{Derived, EventInput, EventsOutcome, StoredIds, SEEN_PRECISION_MS};
pub use export::{
    ExportedAudit, ExportedDelivery, ExportedDevice, ExportedEvent, ExportedLocation, ExportedMembership,
    ExportedMessage, Rows,
};
pub use messages::{NewMessage, StoredMessage};
pub use partitions::EventMaintenance;
pub use pg_pool::PgPoolSize;
pub use rate_limits::SharedQuota;
pub use segments::name_key;
pub use sessions::SessionBackend;
pub use timeline::{timeline_position, TimelinePosition};
pub(crate) use tx::with_tx;
pub use tx::WriteTx;
pub use user_list::{sort_key_of, Budget, ListPage, Position, SortKey};
pub use users::UserInput;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    // The causes are part of the message (not `#[source]`) so that logs and
    // the CLI's one-line errors show them exactly once.
    #[error("database error: {0}")]
    Db(sqlx::Error),
    #[error("stored JSON is not valid: {0}")]
    Json(serde_json::Error),
    #[error("database migration failed: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    #[error("unsupported DATABASE_URL '{0}': use sqlite://path/to/file.db or postgres://user:password@host/db")]
    BadUrl(String),
    #[error("cannot create the database folder {path}: {reason}")]
    Folder { path: String, reason: std::io::Error },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0} already exists")]
    Conflict(String),
    /// A request named something (a userID, a deviceID) that this app does not have.
    #[error("unknown {field} '{value}'")]
    UnknownReference { field: String, value: String },
    /// Other transactions kept the database busy through every retry of a
    /// write (see `tx.rs`). Nothing was written; the caller may try again.
    #[error("the database is busy ({0}); nothing was written, try again")]
    Busy(String),
    /// The database cannot be reached (down, restarting, no free connection
    /// within the pool's acquire timeout). Nothing was written.
    #[error("the database is unavailable ({0}); nothing was written, try again")]
    Unavailable(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if is_unreachable(&err) {
            StoreError::Unavailable(err.to_string())
        } else {
            StoreError::Db(err)
        }
    }
}

impl StoreError {
    /// True when the database gave no answer (down, restarting, or no free
    /// connection within the pool's acquire timeout): the caller says 503.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::Db(sqlx::Error::PoolTimedOut))
    }
}

/// Errors that say the database is not there (rather than that the query
/// was wrong): a lost or refused connection, PostgreSQL shutting down or
/// starting (SQLSTATE classes 08 and 57P). The pool's acquire timeout is
/// not one: it is what contention looks like too (see `tx.rs`).
fn is_unreachable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(err: serde_json::Error) -> Self {
        StoreError::Json(err)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(err)
    }
}

/// The most of a SQLite database file read through mmap (1 GiB).
const MMAP_BYTES: u64 = 1 << 30;
/// The SQLite writer connection's page cache (64 MiB; SQLite's default is
/// 2 MiB). A batch of 500 events changes a few thousand pages of the events
/// table's indexes; with the default cache they spilled mid-transaction. With
/// `WAL_CHECKPOINT_PAGES`, ingest into the 10M-event bench database went from
/// 4,429 to 7,404 events/s (4 clients × 500; `server bench ingest`).
const WRITER_CACHE_KIB: u64 = 64 * 1024;
/// Pages in the WAL (400 MB) before the writer copies them back into the
/// database itself (SQLite's default is 1,000, 4 MB). The background
/// checkpoint (`checkpoints.rs`) copies them off the writer, but a WAL starts
/// over from its beginning only when a transaction begins with every page
/// copied, which a writer that never pauses does not do; then this bounds
/// the WAL, at one stop of the writer per 100,000 pages (about 16 groups of
/// 16 batches of 500 events), where 20,000 stopped it every fourth group.
const WAL_CHECKPOINT_PAGES: u64 = 100_000;
/// Past a checkpoint, a WAL file larger than this is truncated to it. Above
/// the WAL's working size (100,000 pages, ~410 MB), so the file is written
/// over in place: cut back to 128 MB, it grew again after every checkpoint,
/// and growing a file has the kernel allocate and zero each new block
/// (`perf`: ~5 % of the ingest's CPU). `bench ingest` on the 10M-event
/// database, alternated runs, mean events/s, 128 MB → 512 MB: 1 client
/// 24,259 → 29,310 (3 runs each), 4 clients 28,810 → 32,443 (6 each),
/// 16 clients 38,580 → 39,625 (6 each). The price: up to 0.5 GB of disk
/// beside the database.
const WAL_KEEP_BYTES: u64 = 512 * 1024 * 1024;
/// Prepared statements kept per connection. Batch writes use up to nine
/// statement texts per table and step (see `batch.rs`); sqlx's default of 100
/// would evict and re-prepare them.
const STATEMENT_CACHE: usize = 256;

#[derive(Clone)]
pub(crate) enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Handle to the console's database; cheap to clone (it wraps a pool).
#[derive(Clone)]
pub struct Store {
    pub(crate) backend: Backend,
    /// Where write transactions begin: on SQLite a one-connection pool of its
    /// own (SQLite has one writer at a time; see `tx.rs`), on PostgreSQL the
    /// same pool as `backend`.
    pub(crate) writer: Backend,
    /// The Postgres schema this store lives in, when not the default (tests).
    pub(crate) pg_schema: Option<String>,
    /// Event batches waiting for SQLite's writer (see `event_groups.rs`).
    pub(crate) event_groups: std::sync::Arc<event_groups::EventGroups>,
    /// SQLite's checkpoints off the writer (see `checkpoints.rs`).
    _checkpoints: Option<std::sync::Arc<checkpoints::BackgroundCheckpoints>>,
}

/// Runs `$body` with `$pool` bound to the store's pool. The body is compiled
/// once per backend, so each query is written once for both.
macro_rules! with_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.backend {
            $crate::store::Backend::Sqlite($pool) => $body,
            $crate::store::Backend::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// Hides the password of a database URL so it can be logged or shown.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..])
        }
        _ => url.to_string(),
    }
}

impl Store {
    /// Connects to `url` (sqlite:… or postgres:…) and brings the schema up to
    /// date; PostgreSQL connections are opened as needed.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        Self::connect_with(url, PgPoolSize::ON_DEMAND).await
    }

    /// [`Store::connect`] with PostgreSQL's pool of `size` (see `pg_pool.rs`;
    /// SQLite's pools do not change).
    pub async fn connect_with(url: &str, size: PgPoolSize) -> StoreResult<Store> {
        let store = if url.starts_with("sqlite:") {
            Self::connect_sqlite(url).await?
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            Self::connect_postgres(options, size).await?
        } else {
            return Err(StoreError::BadUrl(url.to_string()));
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn connect_sqlite(url: &str) -> StoreResult<Store> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .statement_cache_capacity(STATEMENT_CACHE)
            // sqlx runs each SQLite connection on a thread of its own and
            // hands rows over a bounded channel; with its default of 50 the
            // thread stops and is woken again every 50 rows of a batch's
            // look-ups.
            .row_buffer_size(1024)
            // Reads go through the OS page cache, shared by every connection,
            // instead of copying pages into each connection's small cache.
            .pragma("mmap_size", MMAP_BYTES.to_string());
        if let Some(folder) = options.get_filename().parent() {
            if !folder.as_os_str().is_empty() {
                std::fs::create_dir_all(folder)
                    .map_err(|reason| StoreError::Folder { path: folder.display().to_string(), reason })?;
            }
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        let checkpoints = checkpoints::BackgroundCheckpoints::start(&options).await?;
        // Writers wait here, in order, for the one writer connection.
        let options = options
            .pragma("cache_size", format!("-{WRITER_CACHE_KIB}"))
            .pragma("wal_autocheckpoint", WAL_CHECKPOINT_PAGES.to_string())
            .pragma("journal_size_limit", WAL_KEEP_BYTES.to_string())
            .pragma("temp_store", "memory");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Store {
            backend: Backend::Sqlite(pool),
            writer: Backend::Sqlite(writer),
            pg_schema: None,
            event_groups: std::sync::Arc::new(event_groups::EventGroups::new(1)),
            _checkpoints: Some(std::sync::Arc::new(checkpoints)),
        })
    }

    pub(crate) async fn connect_postgres(options: PgConnectOptions, size: PgPoolSize) -> StoreResult<Store> {
        // One direct attempt first: its error says why ("connection refused",
        // "password authentication failed"), where the pool would only time out.
        use sqlx::Connection;
        // No parallel query: the console's statements take milliseconds, and
        // starting the workers took 5–8 ms here. A 30-day histogram's count
        // of the current hour of the heaviest user (1,275 events, estimated
        // at 76,000) ran in 8.5 ms with two workers, 1 ms without.
        let options =
            options.statement_cache_capacity(STATEMENT_CACHE).options([("max_parallel_workers_per_gather", "0")]);
        sqlx::PgConnection::connect_with(&options).await?.close().await?;
        let pool = pg_pool::open(options, size).await?;
        Ok(Store {
            backend: Backend::Postgres(pool.clone()),
            writer: Backend::Postgres(pool),
            pg_schema: None,
            event_groups: std::sync::Arc::new(event_groups::EventGroups::new(2)),
            _checkpoints: None,
        })
    }

    pub(crate) async fn migrate(&self) -> StoreResult<()> {
        match &self.backend {
            Backend::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Backend::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        self.migrate_sessions().await?;
        self.drop_event_foreign_keys().await?;
        self.backfill_user_index().await
    }

    /// Brings a freshly bulk-loaded database to its steady state before it
    /// is measured (benches): PostgreSQL `VACUUM ANALYZE` (what autovacuum
    /// does in time; a bulk-loaded table without statistics gets bad
    /// plans), SQLite a WAL checkpoint.
    pub async fn settle(&self) -> StoreResult<()> {
        match &self.backend {
            Backend::Postgres(pool) => sqlx::query("VACUUM ANALYZE").execute(pool).await.map(|_| ())?,
            Backend::Sqlite(pool) => sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await.map(|_| ())?,
        }
        Ok(())
    }

    /// The database settings the speed depends on, in one line (benchmark
    /// reports): PostgreSQL's server settings as configured, SQLite's
    /// pragmas as this store sets them.
    pub async fn tuning(&self) -> StoreResult<String> {
        match &self.backend {
            Backend::Postgres(pool) => {
                let sql = "SELECT string_agg(name || ' = ' || current_setting(name), ', ' ORDER BY n)
                           FROM unnest($1::text[]) WITH ORDINALITY AS s (name, n)";
                let names = [
                    "server_version",
                    "shared_buffers",
                    "max_wal_size",
                    "checkpoint_timeout",
                    "wal_compression",
                    "synchronous_commit",
                ];
                Ok(sqlx::query_scalar(sql).bind(names).fetch_one(pool).await?)
            }
            Backend::Sqlite(_) => Ok(format!(
                "journal_mode = wal, synchronous = normal, mmap_size = {MMAP_BYTES}, writer cache_size = -{WRITER_CACHE_KIB}, \
                 wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}, writer temp_store = memory, \
                 wal_checkpoint(PASSIVE) every {} ms on a connection of its own",
                checkpoints::CHECKPOINT_EVERY.as_millis()
            )),
        }
    }

    /// "sqlite" or "postgres", for logs and test names.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        with_pool!(self, |pool| pool.close().await);
        if let Backend::Sqlite(writer) = &self.writer {
            writer.close().await;
        }
    }
}

/// Maps a unique-constraint violation to [`StoreError::Conflict`].
pub(crate) fn conflict_as(what: impl Into<String>) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |err| match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what.into()),
        _ => StoreError::Db(err),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(redact_url("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("sqlite://data/a.db"), "sqlite://data/a.db");
    }
}
