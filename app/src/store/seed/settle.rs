//! What the benchmarks do to the database around a measurement: settle it
//! after a bulk load (the tuning it reports is `Store::tuning`).

use crate::store::{Backend, Store, StoreResult};

impl Store {
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
}
