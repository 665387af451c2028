//! The PostgreSQL connection pool, and what each new connection does before
//! its first request.
//!
//! A PostgreSQL backend builds its catalog entries the first time a
//! statement names a table: `events` is a partitioned table (migration
//! 0019), and the first plan over it on a new backend took 13 ms (five
//! partitions, five indexes each) against 0.9 ms on the next one. Each new
//! connection plans the console's hot reads once, without running them,
//! before the pool hands it out; the server opens its connections at start
//! (`DATABASE_WARM_CONNECTIONS`).
//!
//! The pool is small (`DATABASE_MAX_CONNECTIONS`, 8 by default) because a
//! statement's first five runs on each connection are planned anew for
//! their parameters (PostgreSQL's plan cache) at 0.5–2 ms each for a read of
//! `events`: the fewer connections, the sooner each runs on its cached plan,
//! and a profile page's dozen reads do not outrun two cores anyway.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Executor, PgConnection};

use crate::store::StoreResult;

/// How many connections a PostgreSQL pool opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgPoolSize {
    /// Kept open and warm from the start (the rest open when needed).
    pub warm: u32,
    /// Never more than this many.
    pub max: u32,
}

impl PgPoolSize {
    /// Up to 16 connections, opened when needed (tests, tools): the
    /// console's reads take milliseconds, a profile page takes up to a dozen
    /// at once, and two instances stay well inside PostgreSQL's default
    /// `max_connections` of 100.
    pub const ON_DEMAND: PgPoolSize = PgPoolSize { warm: 0, max: 16 };
}

/// Plans (`EXPLAIN`, nothing is read) that load the catalog entries of the
/// tables a profile page reads, `events` with every partition and index.
const WARM_UP: &str = "
    EXPLAIN SELECT e.id FROM events e LEFT JOIN devices d ON d.id = e.device_id
        WHERE e.app_id = 0 AND e.user_id = 0 AND e.event_type = '' ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1;
    EXPLAIN SELECT id FROM users WHERE app_id = 0 AND id = 0;
    EXPLAIN SELECT hour FROM event_hours WHERE app_id = 0 AND user_id = 0;
    EXPLAIN SELECT id FROM audit WHERE user_id = 0;
    EXPLAIN SELECT s.id FROM segment_members m JOIN segments s ON s.id = m.segment_id WHERE m.user_id = 0;
    EXPLAIN SELECT id FROM messages WHERE app_id = 0 AND user_id = 0;";

/// Opens a pool on `options` of `size`, each connection warmed by [`warm_up`];
/// the warm ones are open when it returns (sqlx opens `min_connections`
/// before `connect_with` returns).
pub(crate) async fn open(options: PgConnectOptions, size: PgPoolSize) -> StoreResult<PgPool> {
    let max = size.max.max(1);
    let pool = PgPoolOptions::new()
        .max_connections(max)
        .min_connections(size.warm.min(max))
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(|conn, _meta| Box::pin(warm_up(conn)))
        .connect_with(options)
        .await?;
    Ok(pool)
}

/// Plans [`WARM_UP`] on a new connection, once the schema is there (a new
/// database's first connection runs the migrations that create it). Only a
/// lost connection fails it: a warm-up that does not plan costs speed, not
/// the connection.
async fn warm_up(conn: &mut PgConnection) -> sqlx::Result<()> {
    let migrated: bool = sqlx::query_scalar("SELECT to_regclass('events') IS NOT NULL").fetch_one(&mut *conn).await?;
    if migrated {
        if let Err(error) = conn.execute(sqlx::raw_sql(WARM_UP)).await {
            tracing::warn!(%error, "a new PostgreSQL connection could not plan the warm-up reads");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    /// Warm connections are open when the pool is handed over, and a warm-up
    /// that cannot plan (an `events` table, but not the console's) leaves
    /// them usable. Needs TEST_DATABASE_URL (skipped loudly without it).
    #[tokio::test]
    async fn warm_connections_open_at_start_and_survive_a_failed_warm_up() {
        let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
            assert!(
                std::env::var("REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "REQUIRE_POSTGRES=1 without TEST_DATABASE_URL"
            );
            eprintln!("!!! SKIPPED: TEST_DATABASE_URL is not set");
            return;
        };
        let schema = format!("t_pool_{}", std::process::id());
        let admin = PgPool::connect(&url).await.unwrap();
        // The name is made above, never input.
        sqlx::raw_sql(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; CREATE TABLE {schema}.events (x INT)"
        ))
        .execute(&admin)
        .await
        .unwrap();
        let options = PgConnectOptions::from_str(&url).unwrap().options([("search_path", schema.as_str())]);
        let pool = open(options, PgPoolSize { warm: 3, max: 4 }).await.unwrap();
        assert_eq!(pool.size(), 3, "the warm connections are open when the pool is");
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(&pool).await.unwrap();
        assert_eq!(rows, 0);
        pool.close().await;
        sqlx::raw_sql(&format!("DROP SCHEMA {schema} CASCADE")).execute(&admin).await.unwrap();
    }
}
