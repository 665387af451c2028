//! Deleting an end-user for good (the profile's Options > Delete), and the
//! check that nothing of it remains, read from the schema itself so that a
//! table added later is covered without touching the check.

use super::event_hours::{Change, HourCounts};
use super::{with_pool, with_tx, Store, StoreResult, WriteTx};

/// How much went with a deleted user (counts only: the audit entry that
/// records the deletion holds no personal data).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Erased {
    pub devices: u64,
    pub locations: u64,
    pub events: u64,
    pub messages: u64,
}

/// The statements of a deletion, in an order that never leaves a row
/// pointing at a deleted one (`$1` the user's id). They do not lean on
/// `ON DELETE CASCADE`, so the counts are exact and the order is visible.
///
/// Each reads by an index (`app/tests/event_plans.rs` checks the plans):
/// an `OR` between two subqueries is a pass over the whole table on
/// PostgreSQL, so such deletions are two statements.
const DELETE_MESSAGE_DELIVERIES: &str =
    "DELETE FROM message_deliveries WHERE message_id IN (SELECT id FROM messages WHERE user_id = $1)";
const DELETE_DEVICE_DELIVERIES: &str =
    "DELETE FROM message_deliveries WHERE device_id IN (SELECT id FROM devices WHERE user_id = $1)";
const DELETE_MESSAGES: &str = "DELETE FROM messages WHERE user_id = $1";
const DELETE_LOCATIONS: &str = "DELETE FROM locations WHERE device_id IN (SELECT id FROM devices WHERE user_id = $1)";
/// The user's events: its app is named because PostgreSQL's
/// `events_by_user_occurred` is keyed by app, then user.
const DELETE_USER_EVENTS: &str =
    "DELETE FROM events WHERE app_id = (SELECT app_id FROM users WHERE id = $1) AND user_id = $1";
/// Then the other events of its devices (`events_by_device`).
const DELETE_DEVICE_EVENTS: &str = "DELETE FROM events WHERE device_id IN (SELECT id FROM devices WHERE user_id = $1)";
const OTHERS_EVENTS: &str = "SELECT user_id, occurred_at FROM events
     WHERE device_id IN (SELECT id FROM devices WHERE user_id = $1) AND user_id <> $1";
const DELETE_HOURS: &str = "DELETE FROM event_hours WHERE app_id = $1 AND user_id = $2";
const DELETE_MEMBERSHIPS: &str = "DELETE FROM segment_members WHERE user_id = $1";
const DELETE_DEVICES: &str = "DELETE FROM devices WHERE user_id = $1";
const DELETE_PROPERTIES: &str = "DELETE FROM user_properties WHERE user_id = $1";
const DELETE_PROPERTY_CHANGES: &str = "DELETE FROM property_changes WHERE user_id = $1";
const DELETE_NOTES: &str = "DELETE FROM notes WHERE user_id = $1";
/// What the app sent through those userIDs is no longer noted by them.
const DELETE_ARRIVALS: &str = "DELETE FROM alias_arrivals WHERE (app_id, alias) IN
     (SELECT app_id, external_id FROM user_aliases WHERE user_id = $1)";
/// userIDs merged into the user stop naming anyone.
const DELETE_ALIASES: &str = "DELETE FROM user_aliases WHERE user_id = $1";
/// The records of merges into the user hold the merged users' rows: they go
/// too (such a merge can no longer be undone).
const DELETE_MERGES: &str = "DELETE FROM user_merges WHERE kept_id = $1";
/// Earlier audit entries about the user stay (who did what, when) but lose
/// the user and their detail (segment names, message titles).
const ANONYMISE_AUDIT: &str = "UPDATE audit SET user_id = NULL, detail = '' WHERE user_id = $1";

/// Every statement above that takes the user's id alone, by name: what
/// the plan test (`Store::per_user_plans`) explains.
#[cfg(any(test, feature = "test-support"))]
pub(crate) const BY_USER: [(&str, &str); 16] = [
    ("deliveries of the user's messages", DELETE_MESSAGE_DELIVERIES),
    ("deliveries to the user's devices", DELETE_DEVICE_DELIVERIES),
    ("messages", DELETE_MESSAGES),
    ("locations", DELETE_LOCATIONS),
    ("other users' events on the devices", OTHERS_EVENTS),
    ("the user's events", DELETE_USER_EVENTS),
    ("the devices' events", DELETE_DEVICE_EVENTS),
    ("memberships", DELETE_MEMBERSHIPS),
    ("devices", DELETE_DEVICES),
    ("properties", DELETE_PROPERTIES),
    ("property changes", DELETE_PROPERTY_CHANGES),
    ("notes", DELETE_NOTES),
    ("arrivals through aliases", DELETE_ARRIVALS),
    ("aliases", DELETE_ALIASES),
    ("merges into the user", DELETE_MERGES),
    ("audit entries", ANONYMISE_AUDIT),
];

impl WriteTx {
    /// Deletes the user, its devices, locations, events, messages, their
    /// deliveries, its segment memberships, search keys, properties with
    /// their history, notes and Push Mail
    /// address (a column of the user). `None` when the user is not in the
    /// app (nothing is touched).
    pub async fn delete_user(&mut self, app_id: i64, user_id: i64) -> StoreResult<Option<Erased>> {
        if !self.has_user(app_id, user_id).await? {
            return Ok(None);
        }
        self.lock_for_erasure(app_id, user_id).await?;
        self.delete_where_user(DELETE_MESSAGE_DELIVERIES, user_id).await?;
        self.delete_where_user(DELETE_DEVICE_DELIVERIES, user_id).await?;
        let messages = self.delete_where_user(DELETE_MESSAGES, user_id).await?;
        let locations = self.delete_where_user(DELETE_LOCATIONS, user_id).await?;
        // Events of the user's devices that name another user leave that
        // user's hour counts; the user's own go with the user's rows.
        let others: Vec<(i64, i64)> =
            with_tx!(self, |conn| sqlx::query_as(OTHERS_EVENTS).bind(user_id).fetch_all(&mut *conn).await)?;
        self.change_event_hours(app_id, &others.into_iter().collect::<HourCounts>(), Change::Deleted).await?;
        let events = self.delete_where_user(DELETE_USER_EVENTS, user_id).await?
            + self.delete_where_user(DELETE_DEVICE_EVENTS, user_id).await?;
        with_tx!(self, |conn| sqlx::query(DELETE_HOURS)
            .bind(app_id)
            .bind(user_id)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
        self.delete_where_user(DELETE_MEMBERSHIPS, user_id).await?;
        self.delete_search_rows(&[user_id]).await?;
        let devices = self.delete_where_user(DELETE_DEVICES, user_id).await?;
        self.delete_where_user(DELETE_PROPERTIES, user_id).await?;
        self.delete_where_user(DELETE_PROPERTY_CHANGES, user_id).await?;
        self.delete_where_user(DELETE_NOTES, user_id).await?;
        self.delete_where_user(DELETE_ARRIVALS, user_id).await?;
        self.delete_where_user(DELETE_ALIASES, user_id).await?;
        self.delete_where_user(DELETE_MERGES, user_id).await?;
        self.delete_where_user(ANONYMISE_AUDIT, user_id).await?;
        let user = "DELETE FROM users WHERE app_id = $1 AND id = $2";
        with_tx!(self, |conn| sqlx::query(user).bind(app_id).bind(user_id).execute(&mut *conn).await.map(|_| ()))?;
        Ok(Some(Erased { devices, locations, events, messages }))
    }

    /// PostgreSQL: locks the user and its devices against the ingest, whose
    /// events reference them without foreign keys (migration 0019). A batch
    /// that looked them up first (`FOR KEY SHARE`) commits before this
    /// returns, and its events are then deleted below; one that comes after
    /// waits and finds them gone. A bulk add's chunk, which locks no user,
    /// is kept out by the app's removal lock ([`WriteTx::hold_off_removals`]).
    /// SQLite has one writer: nothing interleaves.
    pub(super) async fn lock_for_erasure(&mut self, app_id: i64, user_id: i64) -> StoreResult<()> {
        if !self.is_postgres() {
            return Ok(());
        }
        self.removal_lock(app_id, "pg_advisory_xact_lock_shared").await?;
        for sql in [
            "SELECT id FROM users WHERE id = $1 FOR UPDATE",
            "SELECT id FROM devices WHERE user_id = $1 ORDER BY id FOR UPDATE",
        ] {
            with_tx!(self, |conn| sqlx::query(sql).bind(user_id).fetch_all(&mut *conn).await.map(|_| ()))?;
        }
        Ok(())
    }

    /// PostgreSQL: waits for the app's user removals (erasures, merges) in
    /// flight and keeps new ones out until this transaction ends. A bulk
    /// chunk that writes rows naming thousands of users takes this instead
    /// of a row lock per user (each one a write to the user's heap page):
    /// the users it reads after it are there until it commits. Removals
    /// share the lock among themselves; two such chunks of one app take
    /// turns.
    pub async fn hold_off_removals(&mut self, app_id: i64) -> StoreResult<()> {
        if !self.is_postgres() {
            return Ok(());
        }
        self.removal_lock(app_id, "pg_advisory_xact_lock").await
    }

    /// Takes the app's removal lock with `function` (exclusive or shared):
    /// an advisory lock keyed by a name for this use and the app.
    async fn removal_lock(&mut self, app_id: i64, function: &'static str) -> StoreResult<()> {
        // Two 32-bit keys: apps whose ids agree in the low 31 bits share a
        // lock, which only makes them wait for each other.
        let app_key = (app_id & 0x7fff_ffff) as i32;
        let sql = format!("SELECT {function}(hashtext('audience: user removals'), $1)::text");
        with_tx!(self, |conn| sqlx::query(&sql).bind(app_key).fetch_all(&mut *conn).await.map(|_| ()))?;
        Ok(())
    }

    /// Runs one statement of [`WriteTx::delete_user`]; rows affected.
    async fn delete_where_user(&mut self, sql: &'static str, user_id: i64) -> StoreResult<u64> {
        Ok(with_tx!(self, |conn| sqlx::query(sql).bind(user_id).execute(&mut *conn).await.map(|r| r.rows_affected()))?)
    }
}

/// A column that can point at a user or a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceColumn {
    pub table: String,
    pub column: String,
    /// `users` or `devices`.
    pub target: String,
}

/// Rows found by [`Store::rows_referencing`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    pub table: String,
    pub column: String,
    pub rows: i64,
}

impl Store {
    /// Every column of every table of the schema that refers to a user or a
    /// device: the `id` of `users` and `devices`, every column named
    /// `user_id` or `device_id`, and every foreign key to either table.
    pub async fn reference_columns(&self) -> StoreResult<Vec<ReferenceColumn>> {
        // (table, column, the table a foreign key points at or '').
        let rows: Vec<(String, String, String)> = with_pool!(self, |pool| {
            let sql = if self.backend_name() == "sqlite" {
                "SELECT t.name, c.name, COALESCE(
                        (SELECT f.\"table\" FROM pragma_foreign_key_list(t.name) f WHERE f.\"from\" = c.name), '')
                 FROM sqlite_master t, pragma_table_info(t.name) c
                 WHERE t.type = 'table' AND t.name NOT LIKE 'sqlite_%' AND t.name NOT LIKE '\\_sqlx%' ESCAPE '\\'"
            } else {
                // pg_catalog, not information_schema: its views join every
                // constraint of the database and crawl once there are many
                // (each monthly events partition clones the foreign keys).
                // A partitioned table ('p', events) counts once, by its name.
                "SELECT c.relname::text, a.attname::text, COALESCE((
                        SELECT MIN(f.relname::text) FROM pg_constraint k JOIN pg_class f ON f.oid = k.confrelid
                        WHERE k.contype = 'f' AND k.conrelid = c.oid AND a.attnum = ANY (k.conkey)), '')
                 FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
                 WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
                   AND a.attnum > 0 AND NOT a.attisdropped AND c.relname NOT LIKE '\\_sqlx%'"
            };
            sqlx::query_as(sql).fetch_all(pool).await
        })?;
        let mut found: Vec<ReferenceColumn> = rows
            .into_iter()
            .filter_map(|(table, column, foreign)| {
                let target = match (table.as_str(), column.as_str(), foreign.as_str()) {
                    ("users", "id", _) | (_, "user_id", _) | (_, _, "users") => "users",
                    ("devices", "id", _) | (_, "device_id", _) | (_, _, "devices") => "devices",
                    _ => return None,
                };
                Some(ReferenceColumn { table, column, target: target.into() })
            })
            .collect();
        found.sort_by(|a, b| (&a.table, &a.column).cmp(&(&b.table, &b.column)));
        Ok(found)
    }

    /// Rows anywhere in the schema that still refer to `user_id` or one of
    /// `device_ids` (the orphan check after a deletion; tests and support).
    pub async fn rows_referencing(&self, user_id: i64, device_ids: &[i64]) -> StoreResult<Vec<Leftover>> {
        let mut leftovers = Vec::new();
        for col in self.reference_columns().await? {
            let ids: Vec<i64> = if col.target == "users" { vec![user_id] } else { device_ids.to_vec() };
            for id in ids {
                // Identifiers come from the database's own catalog, quoted;
                // the id is bound.
                let sql = format!("SELECT COUNT(*) FROM \"{}\" WHERE \"{}\" = $1", col.table, col.column);
                let rows: i64 = with_pool!(self, |pool| sqlx::query_scalar(&sql).bind(id).fetch_one(pool).await)?;
                if rows > 0 {
                    leftovers.push(Leftover { table: col.table.clone(), column: col.column.clone(), rows });
                }
            }
        }
        Ok(leftovers)
    }

    /// The ids of a user's devices (read before a deletion, for the check).
    pub async fn device_ids_of_user(&self, user_id: i64) -> StoreResult<Vec<i64>> {
        let sql = "SELECT id FROM devices WHERE user_id = $1 ORDER BY id";
        with_pool!(self, |pool| Ok(sqlx::query_scalar(sql).bind(user_id).fetch_all(pool).await?))
    }
}
