//! SQLite: the events carry no foreign keys (as on PostgreSQL since its
//! migration 0019).
//!
//! Each event named its app, user and device by foreign key, and SQLite
//! checks one by looking the parent row up: three B-tree descents per
//! stored event, on the one writer, for what the ingest has just looked up
//! itself. What the keys guaranteed is kept by the code, on both databases:
//!  * existence: the ingest looks its users and devices up in the write
//!    transaction that stores the events (`WriteTx::resolve_events`), and
//!    SQLite's one writer lets nothing in between;
//!  * deletion: erasure deletes a user's events itself (`erasure.rs`, no
//!    cascade); devices go only with their user, apps are never deleted.
//!
//! Removing the keys also keeps the multi-row insert free of a statement
//! journal (a copy of every page a statement changes, kept so that a
//! failing row can undo its statement alone): with `INSERT OR IGNORE`, which
//! settles the unique key row by row, nothing is left that can fail
//! part-way. Session 17 had deferred the keys for that (checked at commit,
//! still one look-up each). 8,000-event transactions replayed from Python's
//! `sqlite3` (this schema, 1M users and devices, 1,000 in use; two runs of
//! three each): 41,000 events/s with the deferred keys, 44,800 without.
//!
//! SQLite cannot drop a constraint, so the table's `CREATE` text in
//! `sqlite_schema` is rewritten, once, in one transaction — the procedure
//! SQLite documents for removing a foreign key, which leaves the stored rows
//! as they are (<https://www.sqlite.org/lang_altertable.html#otheralter>);
//! instant at any size.

use super::{Backend, Store, StoreError, StoreResult};

/// The events' three foreign keys as migration 0001 wrote them (each after
/// its column's type), and as session 17 left them (deferred); the longer
/// one is removed first.
const KEYS: [&str; 6] = [
    " REFERENCES apps (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED",
    " REFERENCES users (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED",
    " REFERENCES devices (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED",
    " REFERENCES apps (id) ON DELETE CASCADE",
    " REFERENCES users (id) ON DELETE CASCADE",
    " REFERENCES devices (id) ON DELETE CASCADE",
];

/// The events table's `CREATE` text without its foreign keys; `None` when
/// it has none already. An error when it has some that are not the three
/// the migrations wrote (a change this code does not know: left alone).
fn without_keys(create: &str) -> Result<Option<String>, String> {
    if !create.contains("REFERENCES") {
        return Ok(None);
    }
    let stripped = KEYS.iter().fold(create.to_string(), |text, key| text.replace(key, ""));
    if stripped.contains("REFERENCES") || create.matches("REFERENCES").count() != 3 {
        return Err(create.to_string());
    }
    Ok(Some(stripped))
}

impl Store {
    /// Removes the events' foreign keys unless they are gone already (run
    /// after the migrations; SQLite only).
    pub(crate) async fn drop_event_foreign_keys(&self) -> StoreResult<()> {
        let Backend::Sqlite(pool) = &self.writer else {
            return Ok(());
        };
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        let table = "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'events'";
        let create: String = sqlx::query_scalar(table).fetch_one(&mut *tx).await?;
        let stripped = match without_keys(&create) {
            Ok(Some(stripped)) => stripped,
            Ok(None) => return Ok(()),
            Err(create) => {
                return Err(StoreError::Unavailable(format!(
                    "the events table is not as the migrations left it; its foreign keys stay: {create}"
                )))
            }
        };
        let version: i64 = sqlx::query_scalar("PRAGMA schema_version").fetch_one(&mut *tx).await?;
        sqlx::query("PRAGMA writable_schema = ON").execute(&mut *tx).await?;
        sqlx::query("UPDATE sqlite_schema SET sql = $1 WHERE type = 'table' AND name = 'events'")
            .bind(&stripped)
            .execute(&mut *tx)
            .await?;
        // A PRAGMA takes no bound parameters; this is an integer read above.
        // The new version makes every connection read the schema again.
        sqlx::query(&format!("PRAGMA schema_version = {}", version + 1)).execute(&mut *tx).await?;
        sqlx::query("PRAGMA writable_schema = OFF").execute(&mut *tx).await?;
        tx.commit().await?;
        tracing::info!("the events' foreign keys are removed (SQLite; the ingest and erasure keep what they ensured)");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{without_keys, KEYS};
    use crate::store::{testing, with_pool};

    async fn events_table(store: &super::Store) -> String {
        let sql = "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'events'";
        with_pool!(store, |pool| sqlx::query_scalar(sql).fetch_one(pool).await.unwrap())
    }

    #[test]
    fn both_earlier_forms_lose_their_keys_and_anything_else_is_left_alone() {
        let immediate = "CREATE TABLE events (app_id INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
            user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
            device_id INTEGER REFERENCES devices (id) ON DELETE CASCADE, UNIQUE (app_id, client_id))";
        let expected = "CREATE TABLE events (app_id INTEGER NOT NULL,
            user_id INTEGER,
            device_id INTEGER, UNIQUE (app_id, client_id))";
        assert_eq!(without_keys(immediate).unwrap().as_deref(), Some(expected));
        let deferred = immediate.replace("ON DELETE CASCADE", "ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED");
        assert_eq!(without_keys(&deferred).unwrap().as_deref(), Some(expected));
        assert_eq!(without_keys(expected).unwrap(), None);
        // A key this code does not know (or one of the three missing).
        let other = immediate.replace("users (id) ON DELETE CASCADE", "users (id) ON DELETE SET NULL");
        assert!(without_keys(&other).is_err());
        assert!(KEYS.iter().all(|key| key.starts_with(" REFERENCES ")));
    }

    #[tokio::test]
    async fn the_events_keys_are_removed_once() {
        let store = testing::sqlite().await;
        let create = events_table(&store).await;
        assert!(!create.contains("REFERENCES"), "{create}");
        assert!(create.contains("UNIQUE (app_id, client_id)"), "{create}");
        let keys: i64 =
            with_pool!(&store, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM pragma_foreign_key_list('events')")
                .fetch_one(pool)
                .await
                .unwrap());
        assert_eq!(keys, 0);
        // A second start leaves the table as it is.
        store.drop_event_foreign_keys().await.unwrap();
        assert_eq!(events_table(&store).await, create);
    }
}
