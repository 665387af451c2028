//! The only place with SQL. One API over SQLite (embedded default) and
//! PostgreSQL: every query is written once, in portable SQL with `$n`
//! placeholders, and [`with_pool!`] compiles it for each backend. Only the DDL
//! differs (`app/migrations/{sqlite,postgres}`).

mod activity;
mod admins;
mod aliases;
mod apps;
mod bulk;
mod deliveries;
mod device_reads;
mod devices;
mod engine;
mod erasure;
mod event_hours;
pub mod event_minutes;
mod event_rows;
mod event_search;
mod events;
mod export;
mod jobs;
mod live_view;
#[cfg(any(test, feature = "test-support"))]
pub mod lock_waits;
mod merge_preview;
mod merge_undo;
mod merges;
mod messages;
mod notes;
mod properties;
mod property_writes;
mod rate_limits;
#[cfg(feature = "bench")]
mod seed;
mod segments;
mod sessions;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
mod timeline;
mod user_list;
#[cfg(any(test, feature = "test-support"))]
mod user_snapshot;
mod users;

pub use crate::model::merges::MergeCounts;
/// See [`tx`](mod@tx): one write transaction, committed, retried on contention.
pub use crate::write_tx;
pub use activity::MOVED_PREFIX;
pub use admins::{AdminRecord, NewAudit};
pub use aliases::{Addressee, Arrived, Recipient};
pub use bulk::BulkAudit;
pub use deliveries::{InboxMessage, Opened};
pub use devices::{DeviceInput, LocationInput};
pub use engine::health::PoolStats;
pub use engine::partitions::EventMaintenance;
pub use engine::pg_pool::PgPoolSize;
pub use engine::tx;
use engine::{batch, checkpoints, event_groups};
pub use erasure::{Erased, Leftover, ReferenceColumn};
pub use event_hours::{hour_of, HourCounts, HOUR_MS};
pub use event_search::{contains_pattern, EventPosition, FoundEvents, SCAN_BUDGET, TYPES_LIMIT};
pub use events::{Derived, EventInput, EventsOutcome, StoredIds, SEEN_PRECISION_MS};
pub use export::{
    ExportedAudit, ExportedDelivery, ExportedDevice, ExportedEvent, ExportedLocation, ExportedMembership,
    ExportedMessage, Rows,
};
pub use jobs::{ChunkDone, ClaimedJob, NewJob};
pub use merge_undo::UNMERGED;
pub use merges::{Merge, MergeSummary, MERGED, UNDO_WINDOW_MS};
pub use messages::{NewMessage, StoredMessage};
pub use rate_limits::SharedQuota;
#[cfg(feature = "bench")]
pub use seed::{BruteForce, BulkDevice, BulkEvent, BulkUser, Cell};
pub use segments::name_key;
pub use sessions::SessionBackend;
pub use timeline::{timeline_position, TimelinePosition};
pub(crate) use tx::with_tx;
pub use tx::WriteTx;
pub use user_list::{sort_key_of, Budget, ListPage, Position, SortKey};
pub use users::UserInput;

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::sqlite::SqlitePool;

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
    /// A write refused by a rule only the stored rows can check (a user's
    /// property count); nothing was written.
    #[error("{message}")]
    Invalid { field: String, message: String },
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
    pub(crate) _checkpoints: Option<std::sync::Arc<checkpoints::BackgroundCheckpoints>>,
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

    pub(crate) async fn migrate(&self) -> StoreResult<()> {
        match &self.backend {
            Backend::Sqlite(pool) => engine::health::SQLITE_MIGRATIONS.run(pool).await?,
            Backend::Postgres(pool) => engine::health::POSTGRES_MIGRATIONS.run(pool).await?,
        }
        self.migrate_sessions().await?;
        self.backfill_user_index().await
    }

    /// "sqlite" or "postgres", for logs and test names.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// How generated placeholders are written for this backend.
    pub(crate) fn marks(&self) -> batch::Marks {
        match self.backend {
            Backend::Sqlite(_) => batch::Marks::Anonymous,
            Backend::Postgres(_) => batch::Marks::Numbered,
        }
    }

    /// True once [`Store::close`] ran (the instance is stopping).
    pub fn is_closed(&self) -> bool {
        with_pool!(self, |pool| pool.is_closed())
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
