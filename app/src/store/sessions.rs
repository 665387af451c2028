//! Sign-in sessions, kept in the console's own database by the maintained
//! `tower-sessions-sqlx-store` (its tables are created by `Store::migrate`).

use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use super::{Backend, Store, StoreResult};

/// The session store of whichever database backs the [`Store`].
#[derive(Debug, Clone)]
pub enum SessionBackend {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Store {
    pub fn session_store(&self) -> SessionBackend {
        match &self.backend {
            Backend::Sqlite(pool) => SessionBackend::Sqlite(SqliteStore::new(pool.clone())),
            Backend::Postgres(pool) => {
                let store = PostgresStore::new(pool.clone());
                // Tests isolate each store in its own schema; sessions follow.
                SessionBackend::Postgres(match &self.pg_schema {
                    Some(schema) => store.with_schema_name(schema).expect("valid schema name"),
                    None => store,
                })
            }
        }
    }

    pub(crate) async fn migrate_sessions(&self) -> StoreResult<()> {
        match self.session_store() {
            SessionBackend::Sqlite(store) => store.migrate().await?,
            SessionBackend::Postgres(store) => store.migrate().await?,
        }
        Ok(())
    }
}

#[async_trait]
impl SessionStore for SessionBackend {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            SessionBackend::Sqlite(store) => store.create(record).await,
            SessionBackend::Postgres(store) => store.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            SessionBackend::Sqlite(store) => store.save(record).await,
            SessionBackend::Postgres(store) => store.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            SessionBackend::Sqlite(store) => store.load(id).await,
            SessionBackend::Postgres(store) => store.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            SessionBackend::Sqlite(store) => store.delete(id).await,
            SessionBackend::Postgres(store) => store.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for SessionBackend {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            SessionBackend::Sqlite(store) => store.delete_expired().await,
            SessionBackend::Postgres(store) => store.delete_expired().await,
        }
    }
}
