//! Opening the database: SQLite's readers' pool and its one writer
//! connection with the pragmas ingest depends on, PostgreSQL's pool.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{checkpoints, event_groups, pg_pool};
use crate::store::{Backend, PgPoolSize, Store, StoreError, StoreResult};

/// The most of a SQLite database file read through mmap (1 GiB).
const MMAP_BYTES: u64 = 1 << 30;
/// The SQLite writer connection's page cache (32 MiB; SQLite's default is
/// 2 MiB). A batch of 500 events changes a few thousand pages of the events
/// table's indexes; a smaller cache spills them mid-transaction. Reads go
/// through mmap, so a bigger cache holds little more than dirty pages, and
/// it is the server's largest steady allocation (an import's memory budget).
const WRITER_CACHE_KIB: u64 = 32 * 1024;
/// Pages in the WAL (about 400 MB) before the writer copies them back into
/// the database itself (SQLite's default is 1,000). The background
/// checkpoint (`checkpoints.rs`) copies pages off the writer, but a WAL
/// starts over from its beginning only when a transaction begins with every
/// page copied, which a writer that never pauses does not do; this bounds
/// the WAL then, at one stop of the writer per 100,000 pages.
const WAL_CHECKPOINT_PAGES: u64 = 100_000;
/// Past a checkpoint, a WAL file larger than this is truncated to it. It is
/// above the WAL's working size (`WAL_CHECKPOINT_PAGES`, ~410 MB), so the
/// file is written over in place rather than grown again after every
/// checkpoint (growing a file has the kernel allocate and zero each block).
/// The price: up to 0.5 GB of disk beside the database.
const WAL_KEEP_BYTES: u64 = 512 * 1024 * 1024;
/// Prepared statements kept per connection. Batch writes use up to nine
/// statement texts per table and step (see `batch.rs`); sqlx's default of 100
/// would evict and re-prepare them.
const STATEMENT_CACHE: usize = 256;

impl Store {
    pub(crate) async fn connect_sqlite(url: &str) -> StoreResult<Store> {
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
        // starting parallel workers costs more than that; a histogram's count
        // over a misestimated hour ran several times slower with them.
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

    #[cfg(feature = "bench")]
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
}
