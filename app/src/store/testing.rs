//! Test support: a fresh, migrated store per test on each backend.
//!
//! SQLite gets a new database file; PostgreSQL a new schema inside the
//! database named by `TEST_DATABASE_URL` (the test command provides one).
//! Without that variable the Postgres half of a test says so loudly and is
//! skipped, unless `REQUIRE_POSTGRES=1` (set under CI), where it fails.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::postgres::PgConnectOptions;

use super::Store;

/// A store for one test; removes its SQLite files when dropped.
pub struct TestStore {
    pub store: Store,
    files: Vec<PathBuf>,
}

impl std::ops::Deref for TestStore {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        for file in &self.files {
            let _ = std::fs::remove_file(file);
        }
    }
}

fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{prefix}_{}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed), nanos)
}

/// A fresh SQLite store in a temporary file.
pub async fn sqlite() -> TestStore {
    let path = std::env::temp_dir().join(format!("{}.db", unique_name("audience_test")));
    let url = format!("sqlite://{}", path.display());
    let store = Store::connect(&url).await.expect("open test SQLite database");
    let files =
        ["", "-wal", "-shm"].iter().map(|suffix| PathBuf::from(format!("{}{suffix}", path.display()))).collect();
    TestStore { store, files }
}

/// A fresh PostgreSQL store in a new schema, or `None` (loudly) when no
/// Postgres was configured and none is required.
pub async fn postgres() -> Option<TestStore> {
    let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
        if std::env::var("REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
            panic!("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set");
        }
        eprintln!("!!! SKIPPED the PostgreSQL half of this test: TEST_DATABASE_URL is not set");
        return None;
    };
    let schema = unique_name("t");
    let admin = Store::connect_postgres(PgConnectOptions::from_str(&url).expect("TEST_DATABASE_URL"))
        .await
        .expect("connect to TEST_DATABASE_URL");
    // The schema name is generated above, never user input.
    let create = format!("CREATE SCHEMA {schema}");
    super::with_pool!(admin, |pool| {
        sqlx::query(&create).execute(pool).await.expect("create test schema");
    });
    admin.close().await;
    let options =
        PgConnectOptions::from_str(&url).expect("TEST_DATABASE_URL").options([("search_path", schema.as_str())]);
    let mut store = Store::connect_postgres(options).await.expect("connect test schema");
    store.pg_schema = Some(schema);
    store.migrate().await.expect("migrate test schema");
    Some(TestStore { store, files: Vec::new() })
}

/// Declares a test that runs `$body(store)` once on SQLite and once on
/// PostgreSQL, as `$name::sqlite` and `$name::postgres`. With `multi_thread`
/// after the name, the test runs on a 4-thread runtime (concurrency tests,
/// where requests and the server must really run in parallel).
#[macro_export]
macro_rules! store_test {
    ($name:ident, multi_thread, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let db = $crate::store::testing::sqlite().await;
                ($body)(db.store.clone()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if let Some(db) = $crate::store::testing::postgres().await {
                    ($body)(db.store.clone()).await;
                }
            }
        }
    };
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let db = $crate::store::testing::sqlite().await;
                ($body)(db.store.clone()).await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(db) = $crate::store::testing::postgres().await {
                    ($body)(db.store.clone()).await;
                }
            }
        }
    };
}
