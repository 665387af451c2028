//! SQLite: the events' foreign keys are checked at commit.
//!
//! A statement that writes several rows and may fail part-way must be
//! undone alone, so SQLite keeps a statement journal for it: a copy of every
//! page it changes, made before the change (in memory here, each copy a
//! malloc). An immediate foreign key makes every multi-row `INSERT` into
//! `events` such a statement — a quarter of the writer's time under `server
//! bench ingest` went to those copies. A deferred key is checked at the
//! commit instead, and with `INSERT OR IGNORE` (which settles the table's
//! other constraints row by row) the insert needs no statement journal:
//! 25,180 → 30,651 events/s with 16 clients (same build, same database).
//!
//! Nothing else changes: the ingest looks its users and devices up in the
//! same transaction, so the check at commit finds them, and `ON DELETE
//! CASCADE` still acts at once (only the check is deferred). SQLite cannot
//! alter a constraint, so the table's `CREATE` text in `sqlite_schema` is
//! rewritten, once, in one transaction — the procedure SQLite documents for
//! constraint changes that leave the stored rows as they are
//! (<https://www.sqlite.org/lang_altertable.html#otheralter>). PostgreSQL's
//! events have no foreign keys (migration 0019).

use super::{Backend, Store, StoreError, StoreResult};

/// Each of the events' three foreign keys as migration 0001 wrote it, and
/// as it reads deferred.
const IMMEDIATE: &str = "ON DELETE CASCADE,";
const DEFERRED: &str = "ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,";
/// `app_id`, `user_id` and `device_id`.
const EVENT_FOREIGN_KEYS: usize = 3;

impl Store {
    /// Makes the events' foreign keys deferred unless they already are (run
    /// after the migrations; SQLite only).
    pub(crate) async fn defer_event_foreign_keys(&self) -> StoreResult<()> {
        let Backend::Sqlite(pool) = &self.writer else {
            return Ok(());
        };
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        let table = "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'events'";
        let create: String = sqlx::query_scalar(table).fetch_one(&mut *tx).await?;
        if create.contains(DEFERRED) {
            return Ok(());
        }
        let deferred = create.replace(IMMEDIATE, DEFERRED);
        if deferred.matches(DEFERRED).count() != EVENT_FOREIGN_KEYS {
            return Err(StoreError::Unavailable(format!(
                "the events table is not as the migrations left it; its foreign keys stay immediate: {create}"
            )));
        }
        let version: i64 = sqlx::query_scalar("PRAGMA schema_version").fetch_one(&mut *tx).await?;
        sqlx::query("PRAGMA writable_schema = ON").execute(&mut *tx).await?;
        sqlx::query("UPDATE sqlite_schema SET sql = $1 WHERE type = 'table' AND name = 'events'")
            .bind(&deferred)
            .execute(&mut *tx)
            .await?;
        // A PRAGMA takes no bound parameters; this is an integer read above.
        // The new version makes every connection read the schema again.
        sqlx::query(&format!("PRAGMA schema_version = {}", version + 1)).execute(&mut *tx).await?;
        sqlx::query("PRAGMA writable_schema = OFF").execute(&mut *tx).await?;
        tx.commit().await?;
        tracing::info!("the events' foreign keys are now checked at commit (SQLite)");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::DEFERRED;
    use crate::store::testing;

    async fn events_table(store: &super::Store) -> String {
        let sql = "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'events'";
        crate::store::with_pool!(store, |pool| sqlx::query_scalar(sql).fetch_one(pool).await.unwrap())
    }

    #[tokio::test]
    async fn the_events_keys_are_deferred_once_and_still_enforced() {
        let store = testing::sqlite().await;
        let create = events_table(&store).await;
        assert_eq!(create.matches(DEFERRED).count(), 3, "{create}");
        // A second start leaves the table as it is.
        store.defer_event_foreign_keys().await.unwrap();
        assert_eq!(events_table(&store).await, create);

        // Checked at commit: an event naming no user commits nothing.
        let app = store.create_app("Keys", "hash", 1).await.unwrap();
        let mut tx = store.begin_write().await.unwrap();
        crate::store::with_tx!(tx, |conn| {
            let sql = "INSERT INTO events (app_id, event_type, user_id, occurred_at, received_at)
                       VALUES ($1, 'open', 999999, 1, 1)";
            sqlx::query(sql).bind(app.id).execute(&mut *conn).await.map(|_| ()).unwrap()
        });
        let refused = tx.commit().await.expect_err("a missing user is refused at commit");
        assert!(refused.to_string().to_lowercase().contains("foreign key"), "{refused}");
        assert_eq!(store.count_events(app.id).await.unwrap(), 0);
    }
}
