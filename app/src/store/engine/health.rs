//! What the readiness check and the metrics ask of the database: that it
//! answers, that its schema is the one this build expects, and how full
//! its connection pools are.

use sqlx::migrate::Migrator;

use crate::store::{with_pool, Backend, Store, StoreResult};

pub(crate) static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
pub(crate) static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// One pool's connections at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// `main`, or `writer` (SQLite's one write connection).
    pub pool: &'static str,
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

impl Store {
    /// Whether the schema is ready for this build: `Ok(None)` when every
    /// migration of this build is applied (a newer build's further ones
    /// are fine: two versions share the database during a rolling
    /// upgrade), `Ok(Some(why))` when some are missing, `Err` when the
    /// database cannot be read.
    pub async fn schema_behind(&self) -> StoreResult<Option<String>> {
        let sql = "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success";
        let applied: i64 = with_pool!(self, |pool| sqlx::query_scalar(sql).fetch_one(pool).await)?;
        let migrator = match self.backend {
            Backend::Sqlite(_) => &SQLITE_MIGRATIONS,
            Backend::Postgres(_) => &POSTGRES_MIGRATIONS,
        };
        let expected = migrator.iter().map(|m| m.version).max().unwrap_or(0);
        Ok((applied < expected)
            .then(|| format!("the database's schema is at migration {applied}; this build needs {expected}")))
    }

    /// The pools' connections now (the writer is listed on SQLite only: on
    /// PostgreSQL it is the main pool).
    pub fn pool_stats(&self) -> Vec<PoolStats> {
        let stats = |pool: &'static str, backend: &Backend| match backend {
            Backend::Sqlite(p) => {
                PoolStats { pool, open: p.size(), idle: p.num_idle() as u32, max: p.options().get_max_connections() }
            }
            Backend::Postgres(p) => {
                PoolStats { pool, open: p.size(), idle: p.num_idle() as u32, max: p.options().get_max_connections() }
            }
        };
        let mut all = vec![stats("main", &self.backend)];
        if matches!(self.writer, Backend::Sqlite(_)) {
            all.push(stats("writer", &self.writer));
        }
        all
    }
}
