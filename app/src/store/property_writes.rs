//! Writing user properties: an admin's change, a user's changes from the
//! API, a batch of many users' — all on one set-based path. The stored
//! values of every user are read at once, the changes worked out in
//! memory, then written as upserts and history rows (on PostgreSQL one
//! statement over arrays each, on SQLite multi-row statements), so a batch
//! of 1,000 users costs a handful of statements, not several per value.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::batch::chunks;
use super::properties::{columns, from_columns, history_value, ValueRow};
use super::tx::Locked;
use super::{with_tx, write_tx, Store, StoreError, StoreResult, UserInput, WriteTx};
use crate::ids::ExternalId;
use crate::model::properties::{PropertyChange, PropertySet, PropertyValue, MAX_PROPERTIES};
use crate::model::users::UserSummary;

/// One value to write: (user id, name, the new value).
type Upsert<'a> = (i64, &'a str, &'a PropertyValue);

impl Store {
    /// Creates or updates the user and applies its property changes in one
    /// transaction; the user and how many values changed.
    pub async fn upsert_user_with_properties(
        &self,
        app_id: i64,
        external_id: &ExternalId,
        input: &UserInput<'_>,
        changes: &[PropertySet],
        by: &str,
        now: i64,
    ) -> StoreResult<(UserSummary, usize)> {
        write_tx!(self, |tx| {
            let user = tx.upsert_user(app_id, external_id, input, now).await?;
            let made = tx.set_properties(app_id, user.id, changes, by, now).await?;
            Ok((user, made.len()))
        })
    }

    /// Creates or updates each user (as `PUT /api/v1/users/{userID}` does:
    /// a new user is created, a deactivated one reactivated) and applies its
    /// property changes, all in one transaction: one refused user refuses
    /// the batch. Returns each entry's user id and how many values changed
    /// (a user named twice has both entries' changes applied, in order).
    pub async fn set_properties_of_many(
        &self,
        app_id: i64,
        users: &[(ExternalId, Vec<PropertySet>)],
        by: &str,
        now: i64,
    ) -> StoreResult<Vec<(i64, usize)>> {
        write_tx!(self, |tx| {
            let ids = tx.resolve_users(app_id, users, now).await?;
            let batch: Vec<(i64, &[PropertySet])> =
                ids.iter().zip(users).map(|(id, (_, changes))| (*id, changes.as_slice())).collect();
            let made = tx.set_properties_of_users(app_id, &batch, by, now).await?;
            Ok(ids.into_iter().zip(made).map(|(id, made)| (id, made.len())).collect())
        })
    }
}

impl WriteTx {
    /// Applies `changes` (a later change of a name wins over an earlier
    /// one) to the user's properties: each value that differs from the
    /// stored one is written with its history row. Past
    /// [`MAX_PROPERTIES`] nothing is written. Returns the changes made.
    pub async fn set_properties(
        &mut self,
        app_id: i64,
        user_id: i64,
        changes: &[PropertySet],
        by: &str,
        now: i64,
    ) -> StoreResult<Vec<PropertyChange>> {
        let made = self.set_properties_of_users(app_id, &[(user_id, changes)], by, now).await.map_err(|e| match e {
            StoreError::Invalid { message, .. } => StoreError::Invalid { field: "properties".into(), message },
            other => other,
        })?;
        Ok(made.into_iter().next().unwrap_or_default())
    }

    /// An import's chunk: each user created or updated (names as given,
    /// `None` keeping the stored one) with its property changes. The
    /// userIDs must differ. A user past [`MAX_PROPERTIES`] refuses the
    /// chunk, named by its place (`[3].properties`).
    pub(crate) async fn import_users(
        &mut self,
        app_id: i64,
        users: &[(&ExternalId, UserInput<'_>, &[PropertySet])],
        by: &str,
        now: i64,
    ) -> StoreResult<()> {
        let inputs: Vec<(&ExternalId, UserInput<'_>)> =
            users.iter().map(|(id, input, _)| (*id, input.clone())).collect();
        let written = self.upsert_users(app_id, &inputs, now).await?;
        let batch: Vec<(i64, &[PropertySet])> =
            written.ids.iter().zip(users).map(|(id, (_, _, changes))| (*id, *changes)).collect();
        self.write_properties(app_id, &batch, &written.created, (by, now)).await?;
        Ok(())
    }

    /// The user ids of a batch's userIDs, in order: existing users found in
    /// one look-up (deactivated ones reactivated), new ones created.
    async fn resolve_users(
        &mut self,
        app_id: i64,
        users: &[(ExternalId, Vec<PropertySet>)],
        now: i64,
    ) -> StoreResult<Vec<i64>> {
        let names: Vec<&str> = users.iter().map(|(id, _)| id.as_str()).collect();
        let mut found = self.user_ids(app_id, &names).await?;
        let existing: Vec<i64> = found.values().copied().collect();
        for chunk in chunks(&existing) {
            let sql = format!(
                "UPDATE users SET active = TRUE, updated_at = {} WHERE NOT active AND id IN ({})",
                self.marks().list(1, 1),
                self.marks().list(2, chunk.len())
            );
            with_tx!(self, |conn| {
                let mut query = sqlx::query(&sql).bind(now);
                for id in chunk {
                    query = query.bind(*id);
                }
                query.execute(&mut *conn).await.map(|_| ())
            })?;
        }
        // New users are created in userID order, so batches creating the
        // same users at once wait for each other rather than deadlock.
        let mut missing: Vec<&ExternalId> =
            users.iter().map(|(id, _)| id).filter(|id| !found.contains_key(id.as_str())).collect();
        missing.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        missing.dedup_by(|a, b| a.as_str() == b.as_str());
        for external_id in missing {
            let user = self.upsert_user(app_id, external_id, &UserInput::default(), now).await?;
            found.insert(external_id.as_str().to_string(), user.id);
        }
        let ids = users.iter().map(|(id, _)| found[id.as_str()]).collect();
        Ok(ids)
    }

    /// Applies each user's changes (see [`WriteTx::set_properties`]); a
    /// user past [`MAX_PROPERTIES`] refuses the whole batch, named by its
    /// place (`[3].properties`). Returns each entry's changes.
    pub(crate) async fn set_properties_of_users(
        &mut self,
        app_id: i64,
        users: &[(i64, &[PropertySet])],
        by: &str,
        now: i64,
    ) -> StoreResult<Vec<Vec<PropertyChange>>> {
        self.write_properties(app_id, users, &HashSet::new(), (by, now)).await
    }

    /// [`WriteTx::set_properties_of_users`] where the users of `created`
    /// were created in this transaction: they hold no values and no other
    /// writer can see them, so they are neither locked nor read.
    async fn write_properties(
        &mut self,
        app_id: i64,
        users: &[(i64, &[PropertySet])],
        created: &HashSet<i64>,
        (by, now): (&str, i64),
    ) -> StoreResult<Vec<Vec<PropertyChange>>> {
        let mut ids: Vec<i64> = users
            .iter()
            .filter(|(id, changes)| !changes.is_empty() && !created.contains(id))
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        // The users' rows are locked before their values are read, so a
        // change racing with another records the value it replaced; a user
        // deleted meanwhile refuses the write (PostgreSQL's property tables
        // have no foreign keys, see migration 0025).
        if self.lock_in_id_order(Locked::Users, &ids).await? < ids.len() {
            return Err(StoreError::NotFound("user"));
        }
        let mut stored = self.stored_properties(&ids).await?;
        let mut made = Vec::with_capacity(users.len());
        for (index, (user_id, changes)) in users.iter().enumerate() {
            let values = stored.entry(*user_id).or_default();
            let changed = apply(values, changes, by, now)
                .map_err(|message| StoreError::Invalid { field: format!("[{index}].properties"), message })?;
            made.push(changed);
        }
        // Each (user, name)'s last value, written in (user, name) order, so
        // concurrent batches lock rows in one order and never deadlock.
        let mut last: BTreeMap<(i64, &str), Option<&PropertyValue>> = BTreeMap::new();
        for ((user_id, _), changes) in users.iter().zip(&made) {
            for change in changes {
                last.insert((*user_id, &change.name), change.new.as_ref());
            }
        }
        let upserts: Vec<Upsert> =
            last.iter().filter_map(|(&(user_id, name), value)| value.map(|v| (user_id, name, v))).collect();
        self.upsert_values(app_id, &upserts, now).await?;
        for (&(user_id, name), _) in last.iter().filter(|(_, value)| value.is_none()) {
            let sql = "DELETE FROM user_properties WHERE user_id = $1 AND name = $2";
            with_tx!(self, |conn| sqlx::query(sql).bind(user_id).bind(name).execute(&mut *conn).await.map(|_| ()))?;
        }
        let history: Vec<(i64, &PropertyChange)> =
            users.iter().zip(&made).flat_map(|((user_id, _), changes)| changes.iter().map(|c| (*user_id, c))).collect();
        self.record_changes(app_id, &history, by, now).await?;
        Ok(made)
    }

    /// The stored properties of `user_ids`, by user and name.
    async fn stored_properties(
        &mut self,
        user_ids: &[i64],
    ) -> StoreResult<HashMap<i64, BTreeMap<String, PropertyValue>>> {
        let mut stored: HashMap<i64, BTreeMap<String, PropertyValue>> = HashMap::new();
        for chunk in chunks(user_ids) {
            let sql = format!(
                "SELECT user_id, name, kind, text_value, number_value FROM user_properties
                 WHERE user_id IN ({})",
                self.marks().list(1, chunk.len())
            );
            let rows: Vec<ValueRow> = with_tx!(self, |conn| {
                let mut query = sqlx::query_as(&sql);
                for id in chunk {
                    query = query.bind(*id);
                }
                query.fetch_all(&mut *conn).await
            })?;
            for (user_id, name, kind, text, number) in rows {
                stored.entry(user_id).or_default().insert(name, from_columns(&kind, text, number));
            }
        }
        Ok(stored)
    }

    /// Writes values, a chunk per statement. The app and the time are bound
    /// once per statement, not per row: the writer binds a third fewer
    /// values (SQLite's `WHERE true` lets its parser read `ON CONFLICT`
    /// after a `SELECT`).
    async fn upsert_values(&mut self, app_id: i64, upserts: &[Upsert<'_>], now: i64) -> StoreResult<()> {
        if self.is_postgres() {
            return self.upsert_value_arrays(app_id, upserts, now).await;
        }
        let marks = self.marks();
        let sql = |n| {
            format!(
                "INSERT INTO user_properties (user_id, app_id, name, kind, text_value, number_value, updated_at)
                 SELECT v.column1, {}, v.column2, v.column3, v.column4, v.column5, {} FROM (VALUES {}) AS v WHERE true
                 ON CONFLICT (user_id, name) DO UPDATE SET kind = excluded.kind,
                     text_value = excluded.text_value, number_value = excluded.number_value,
                     updated_at = excluded.updated_at",
                marks.list(1, 1),
                marks.list(2, 1),
                marks.values_after(2, n, 5)
            )
        };
        self.sqlite_rows(
            upserts,
            sql,
            |query| query.bind(app_id).bind(now),
            |query, (user_id, name, value)| {
                let (kind, text, number) = columns(value);
                query.bind(*user_id).bind(name.to_string()).bind(kind).bind(text.map(str::to_string)).bind(number)
            },
        )
        .await?;
        Ok(())
    }

    /// [`WriteTx::upsert_values`] on PostgreSQL: one statement over arrays
    /// (as the search rows), in the same (user, name) order: one statement
    /// to bind and plan instead of one per 256 rows.
    async fn upsert_value_arrays(&mut self, app_id: i64, upserts: &[Upsert<'_>], now: i64) -> StoreResult<()> {
        if upserts.is_empty() {
            return Ok(());
        }
        let n = upserts.len();
        let (mut users, mut names, mut kinds, mut texts, mut numbers) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for (user_id, name, value) in upserts {
            let (kind, text, number) = columns(value);
            users.push(*user_id);
            names.push(*name);
            kinds.push(kind);
            texts.push(text);
            numbers.push(number);
        }
        let sql = "INSERT INTO user_properties (user_id, app_id, name, kind, text_value, number_value, updated_at)
                   SELECT v.user_id, $1, v.name, v.kind, v.text_value, v.number_value, $2
                   FROM UNNEST($3::int8[], $4::text[], $5::text[], $6::text[], $7::float8[])
                        AS v(user_id, name, kind, text_value, number_value)
                   ON CONFLICT (user_id, name) DO UPDATE SET kind = excluded.kind,
                       text_value = excluded.text_value, number_value = excluded.number_value,
                       updated_at = excluded.updated_at";
        sqlx::query(sql)
            .bind(app_id)
            .bind(now)
            .bind(users)
            .bind(names)
            .bind(kinds)
            .bind(texts)
            .bind(numbers)
            .execute(&mut **self.postgres()?)
            .await?;
        Ok(())
    }

    /// Writes the history rows of `changes` (all by `by` at `at`).
    async fn record_changes(
        &mut self,
        app_id: i64,
        changes: &[(i64, &PropertyChange)],
        by: &str,
        at: i64,
    ) -> StoreResult<()> {
        let mut rows: Vec<HistoryRow> = Vec::with_capacity(changes.len());
        for (user_id, change) in changes {
            rows.push((*user_id, *change, history_value(change.old.as_ref())?, history_value(change.new.as_ref())?));
        }
        if self.is_postgres() {
            return self.record_change_arrays(app_id, &rows, by, at).await;
        }
        let marks = self.marks();
        let sql = |n| {
            format!(
                "INSERT INTO property_changes (app_id, user_id, name, old_value, new_value, changed_by, changed_at)
                 SELECT {}, v.column1, v.column2, v.column3, v.column4, {}, {} FROM (VALUES {}) AS v",
                marks.list(1, 1),
                marks.list(2, 1),
                marks.list(3, 1),
                marks.values_after(3, n, 4)
            )
        };
        let by = by.to_string();
        self.sqlite_rows(
            &rows,
            sql,
            |query| query.bind(app_id).bind(by.clone()).bind(at),
            |query, (user_id, change, old, new)| {
                query.bind(*user_id).bind(change.name.clone()).bind(old.clone()).bind(new.clone())
            },
        )
        .await?;
        Ok(())
    }

    /// [`WriteTx::record_changes`] on PostgreSQL: one statement over arrays.
    async fn record_change_arrays(
        &mut self,
        app_id: i64,
        rows: &[HistoryRow<'_>],
        by: &str,
        at: i64,
    ) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let users: Vec<i64> = rows.iter().map(|(user_id, ..)| *user_id).collect();
        let names: Vec<&str> = rows.iter().map(|(_, change, ..)| change.name.as_str()).collect();
        let olds: Vec<Option<&str>> = rows.iter().map(|(_, _, old, _)| old.as_deref()).collect();
        let news: Vec<Option<&str>> = rows.iter().map(|(.., new)| new.as_deref()).collect();
        let sql = "INSERT INTO property_changes (app_id, user_id, name, old_value, new_value, changed_by, changed_at)
                   SELECT $1, v.user_id, v.name, v.old_value, v.new_value, $2, $3
                   FROM UNNEST($4::int8[], $5::text[], $6::text[], $7::text[]) AS v(user_id, name, old_value, new_value)";
        sqlx::query(sql)
            .bind(app_id)
            .bind(by)
            .bind(at)
            .bind(users)
            .bind(names)
            .bind(olds)
            .bind(news)
            .execute(&mut **self.postgres()?)
            .await?;
        Ok(())
    }
}

/// A history row to write: user, change, old and new value as JSON.
type HistoryRow<'a> = (i64, &'a PropertyChange, Option<String>, Option<String>);

/// Applies `changes` to a user's stored values (a later change of a name
/// wins): the changes that differ from what is stored, or why the user
/// would hold too many properties.
fn apply(
    stored: &mut BTreeMap<String, PropertyValue>,
    changes: &[PropertySet],
    by: &str,
    now: i64,
) -> Result<Vec<PropertyChange>, String> {
    let wanted: BTreeMap<&str, Option<&PropertyValue>> =
        changes.iter().map(|c| (c.name.as_str(), c.value.as_ref())).collect();
    let mut made = Vec::new();
    for (name, new) in wanted {
        let old = stored.get(name).cloned();
        if old.as_ref() == new {
            continue;
        }
        match new {
            Some(value) => stored.insert(name.to_string(), value.clone()),
            None => stored.remove(name),
        };
        made.push(PropertyChange {
            id: 0,
            name: name.to_string(),
            old,
            new: new.cloned(),
            by: by.to_string(),
            at: now,
        });
    }
    if stored.len() > MAX_PROPERTIES {
        return Err(format!("a user holds at most {MAX_PROPERTIES} properties ({} after these changes)", stored.len()));
    }
    Ok(made)
}
