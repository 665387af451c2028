//! End-users of a customer app.

use super::user_list::index::{SearchRows, UserToIndex};
use super::user_list::search::IndexKeys;
use std::collections::{HashMap, HashSet};

use super::batch::chunks;
use super::{with_pool, with_tx, write_tx, Store, StoreError, StoreResult, WriteTx};
use crate::ids::ExternalId;
use crate::model::UserSummary;

/// What the ingest API may set on a user; `None` keeps the stored value.
#[derive(Debug, Clone, Default)]
pub struct UserInput<'a> {
    pub user_name: Option<&'a str>,
    pub email: Option<&'a str>,
}

/// The columns of [`UserSummary`], as a literal so queries stay `&'static str`.
macro_rules! summary_columns {
    () => {
        "id, external_id, user_name, email, active, created_at, last_seen_at"
    };
}
pub(crate) use summary_columns;

impl Store {
    /// Creates or updates a user by its external id. Registering again
    /// reactivates a deactivated user.
    pub async fn upsert_user(
        &self,
        app_id: i64,
        external_id: &ExternalId,
        input: &UserInput<'_>,
        now: i64,
    ) -> StoreResult<UserSummary> {
        write_tx!(self, |tx| tx.upsert_user(app_id, external_id, input, now).await)
    }

    pub async fn user_by_external_id(&self, app_id: i64, external_id: &str) -> StoreResult<Option<UserSummary>> {
        let sql = concat!("SELECT ", summary_columns!(), " FROM users WHERE app_id = $1 AND external_id = $2");
        with_pool!(self, |pool| Ok(sqlx::query_as::<_, UserSummary>(sql)
            .bind(app_id)
            .bind(external_id)
            .fetch_optional(pool)
            .await?))
    }

    pub async fn count_active_users(&self, app_id: i64) -> StoreResult<i64> {
        let sql = "SELECT COUNT(*) FROM users WHERE app_id = $1 AND active";
        with_pool!(self, |pool| Ok(sqlx::query_scalar::<_, i64>(sql).bind(app_id).fetch_one(pool).await?))
    }

    pub async fn user_by_id(&self, app_id: i64, user_id: i64) -> StoreResult<Option<UserSummary>> {
        let sql = concat!("SELECT ", summary_columns!(), " FROM users WHERE app_id = $1 AND id = $2");
        with_pool!(self, |pool| Ok(sqlx::query_as::<_, UserSummary>(sql)
            .bind(app_id)
            .bind(user_id)
            .fetch_optional(pool)
            .await?))
    }

    pub async fn push_token_of(&self, app_id: i64, user_id: i64) -> StoreResult<Option<String>> {
        let sql = "SELECT push_token FROM users WHERE app_id = $1 AND id = $2";
        let token: Option<Option<String>> =
            with_pool!(self, |pool| sqlx::query_scalar(sql).bind(app_id).bind(user_id).fetch_optional(pool).await)?;
        Ok(token.flatten())
    }

    /// Sets (or with `None` removes) a user's Push Mail token; the old one
    /// stops working with this commit. False when the user is not in the app.
    pub async fn set_push_token(&self, app_id: i64, user_id: i64, token: Option<&str>, now: i64) -> StoreResult<bool> {
        write_tx!(self, |tx| tx.set_push_token(app_id, user_id, token, now).await)
    }

    /// The active user a Push Mail token belongs to, as (app id, user id).
    pub async fn user_by_push_token(&self, token: &str) -> StoreResult<Option<(i64, i64)>> {
        let sql = "SELECT app_id, id FROM users WHERE push_token = $1 AND active";
        with_pool!(self, |pool| Ok(sqlx::query_as::<_, (i64, i64)>(sql).bind(token).fetch_optional(pool).await?))
    }

    /// Hides a user and its devices from the dashboard until it registers again.
    pub async fn set_user_active(&self, app_id: i64, user_id: i64, active: bool, now: i64) -> StoreResult<bool> {
        write_tx!(self, |tx| tx.set_user_active(app_id, user_id, active, now).await)
    }
}

impl Store {
    /// The users of `ids` that are users of the app, by id (each once).
    pub async fn users_in_app(&self, app_id: i64, ids: &[i64]) -> StoreResult<Vec<UserSummary>> {
        let mut found = Vec::with_capacity(ids.len());
        let marks = self.marks();
        for chunk in chunks(ids) {
            let sql = format!(
                concat!("SELECT ", summary_columns!(), " FROM users WHERE app_id = {} AND id IN ({})"),
                marks.list(1, 1),
                marks.list(2, chunk.len())
            );
            let rows: Vec<UserSummary> = with_pool!(self, |pool| {
                let mut query = sqlx::query_as(&sql).bind(app_id);
                for id in chunk {
                    query = query.bind(*id);
                }
                query.fetch_all(pool).await
            })?;
            found.extend(rows);
        }
        found.sort_by_key(|u| u.id);
        found.dedup_by_key(|u| u.id);
        Ok(found)
    }
}

/// What [`WriteTx::upsert_users`] wrote: each entry's user id, in the
/// order given, and the ids of the users it created (which have nothing
/// stored yet, so their properties need not be read).
pub(crate) struct Upserted {
    pub ids: Vec<i64>,
    pub created: HashSet<i64>,
}

impl WriteTx {
    /// Whether `user_id` is a user of `app_id`, read in this transaction
    /// (after any row lock it took).
    pub(crate) async fn has_user(&mut self, app_id: i64, user_id: i64) -> StoreResult<bool> {
        let sql = "SELECT id FROM users WHERE app_id = $1 AND id = $2";
        let found: Option<i64> =
            with_tx!(self, |conn| sqlx::query_scalar(sql).bind(app_id).bind(user_id).fetch_optional(&mut *conn).await)?;
        Ok(found.is_some())
    }

    /// Creates or updates a user by its external id and re-indexes it for
    /// search. Registering again reactivates a deactivated user.
    pub async fn upsert_user(
        &mut self,
        app_id: i64,
        external_id: &ExternalId,
        input: &UserInput<'_>,
        now: i64,
    ) -> StoreResult<UserSummary> {
        let sql = concat!(
            "INSERT INTO users (app_id, external_id, user_name, email, active, created_at, updated_at)
             VALUES ($1, $2, $3, $4, TRUE, $5, $5)
             ON CONFLICT (app_id, external_id) DO UPDATE SET
                 user_name = COALESCE(excluded.user_name, users.user_name),
                 email = COALESCE(excluded.email, users.email),
                 active = TRUE,
                 updated_at = excluded.updated_at
             RETURNING ",
            summary_columns!()
        );
        // A merged userID names its kept user.
        let external_id = self.canonical_external_id(app_id, external_id.as_str()).await?;
        let user = with_tx!(self, |conn| sqlx::query_as::<_, UserSummary>(sql)
            .bind(app_id)
            .bind(&external_id)
            .bind(input.user_name)
            .bind(input.email)
            .bind(now)
            .fetch_one(&mut *conn)
            .await)?;
        self.reindex_users(&[UserToIndex::of(app_id, &user)]).await?;
        Ok(user)
    }

    /// See [`Store::set_push_token`].
    pub async fn set_push_token(
        &mut self,
        app_id: i64,
        user_id: i64,
        token: Option<&str>,
        now: i64,
    ) -> StoreResult<bool> {
        let sql = "UPDATE users SET push_token = $1, updated_at = $2 WHERE app_id = $3 AND id = $4";
        let changed = with_tx!(self, |conn| sqlx::query(sql)
            .bind(token)
            .bind(now)
            .bind(app_id)
            .bind(user_id)
            .execute(&mut *conn)
            .await?
            .rows_affected());
        Ok(changed == 1)
    }

    /// See [`Store::set_user_active`].
    pub async fn set_user_active(&mut self, app_id: i64, user_id: i64, active: bool, now: i64) -> StoreResult<bool> {
        let sql = "UPDATE users SET active = $1, updated_at = $2 WHERE app_id = $3 AND id = $4";
        let changed = with_tx!(self, |conn| sqlx::query(sql)
            .bind(active)
            .bind(now)
            .bind(app_id)
            .bind(user_id)
            .execute(&mut *conn)
            .await?
            .rows_affected());
        Ok(changed == 1)
    }

    /// Creates or updates many users by userID at once, as
    /// [`WriteTx::upsert_user`] does one (`None` keeps a stored value; a
    /// deactivated user is reactivated), and indexes them for search.
    /// The userIDs must differ. Returns each one's id, in the order given,
    /// and which of them it created. A merged userID writes to its kept
    /// user; an entry that then names a user another entry names is written
    /// after the rest, on its own (one statement cannot change a row twice).
    pub(crate) async fn upsert_users(
        &mut self,
        app_id: i64,
        users: &[(&ExternalId, UserInput<'_>)],
        now: i64,
    ) -> StoreResult<Upserted> {
        let names: Vec<&str> = users.iter().map(|(id, _)| id.as_str()).collect();
        let aliases = self.kept_user_ids(app_id, &names).await?;
        if aliases.is_empty() {
            return self.upsert_distinct_users(app_id, users, now).await;
        }
        // A stored userID always parses; were one not to, writing the
        // entry under its own name would create the merged userID again.
        let kept: HashMap<&str, ExternalId> = aliases
            .iter()
            .map(|(alias, kept)| {
                let id = ExternalId::parse(kept.as_str())
                    .map_err(|_| StoreError::Unavailable(format!("the stored userID of {alias}'s kept user")))?;
                Ok((alias.as_str(), id))
            })
            .collect::<StoreResult<_>>()?;
        let mut seen = std::collections::HashSet::new();
        let (mut first, mut later) = (Vec::new(), Vec::new());
        for (index, (id, input)) in users.iter().enumerate() {
            let target = kept.get(id.as_str()).unwrap_or(id);
            if seen.insert(target.as_str()) {
                first.push((index, (target, input.clone())));
            } else {
                later.push(index);
            }
        }
        let entries: Vec<(&ExternalId, UserInput<'_>)> = first.iter().map(|(_, entry)| entry.clone()).collect();
        let written = self.upsert_distinct_users(app_id, &entries, now).await?;
        let mut ids = vec![0; users.len()];
        for ((index, _), id) in first.iter().zip(written.ids) {
            ids[*index] = id;
        }
        for index in later {
            let (id, input) = &users[index];
            ids[index] = self.upsert_user(app_id, id, input, now).await?.id;
        }
        Ok(Upserted { ids, created: written.created })
    }

    /// [`WriteTx::upsert_users`] of userIDs that are not aliases.
    ///
    /// New users are inserted with their sort keys and search rows in one
    /// pass; only the users that already exist are updated and re-indexed
    /// (an update, a delete and an insert of their search rows). An import
    /// of new users so writes each row once.
    async fn upsert_distinct_users(
        &mut self,
        app_id: i64,
        users: &[(&ExternalId, UserInput<'_>)],
        now: i64,
    ) -> StoreResult<Upserted> {
        // In userID order: batches writing the same users at once wait for
        // each other rather than deadlock.
        let mut sorted: Vec<&(&ExternalId, UserInput<'_>)> = users.iter().collect();
        sorted.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        let mut ids = self.insert_new_users(app_id, &sorted, now).await?;
        let created: HashSet<i64> = ids.values().copied().collect();
        let existing: Vec<&(&ExternalId, UserInput<'_>)> =
            sorted.into_iter().filter(|(external_id, _)| !ids.contains_key(external_id.as_str())).collect();
        let marks = self.marks();
        let mut indexed = Vec::with_capacity(existing.len());
        for chunk in chunks(&existing) {
            let sql = format!(
                concat!(
                    "INSERT INTO users (app_id, external_id, user_name, email, active, created_at, updated_at) VALUES {}
                     ON CONFLICT (app_id, external_id) DO UPDATE SET
                         user_name = COALESCE(excluded.user_name, users.user_name),
                         email = COALESCE(excluded.email, users.email),
                         active = TRUE,
                         updated_at = excluded.updated_at
                     RETURNING ",
                    summary_columns!()
                ),
                marks.values(chunk.len(), 7)
            );
            let stored: Vec<UserSummary> = with_tx!(self, |conn| {
                let mut query = sqlx::query_as::<_, UserSummary>(&sql);
                for (external_id, input) in chunk {
                    query = query
                        .bind(app_id)
                        .bind(external_id.as_str())
                        .bind(input.user_name)
                        .bind(input.email)
                        .bind(true)
                        .bind(now)
                        .bind(now);
                }
                query.fetch_all(&mut *conn).await
            })?;
            for user in stored {
                indexed.push(UserToIndex::of(app_id, &user));
                ids.insert(user.external_id, user.id);
            }
        }
        self.reindex_users(&indexed).await?;
        let ids = users.iter().map(|(external_id, _)| ids.get(external_id.as_str()).copied().unwrap_or_default());
        Ok(Upserted { ids: ids.collect(), created })
    }

    /// Inserts those of `users` that do not exist yet, with their sort keys
    /// and search rows; the new users' ids by userID. A user that exists
    /// (or that a concurrent writer creates first) is left to the caller.
    async fn insert_new_users(
        &mut self,
        app_id: i64,
        users: &[&(&ExternalId, UserInput<'_>)],
        now: i64,
    ) -> StoreResult<HashMap<String, i64>> {
        let keys: Vec<IndexKeys> = users
            .iter()
            .map(|(external_id, input)| IndexKeys::of(external_id.as_str(), input.user_name, input.email))
            .collect();
        let ids = if self.is_postgres() {
            self.insert_user_arrays(app_id, users, &keys, now).await?
        } else {
            self.insert_user_rows(app_id, users, &keys, now).await?
        };
        let rows: Vec<SearchRows> = users
            .iter()
            .zip(keys)
            .filter_map(|((external_id, _), keys)| {
                let user_id = *ids.get(external_id.as_str())?;
                Some(SearchRows { app_id, user_id, created_at: now, keys })
            })
            .collect();
        self.insert_search_rows(&rows).await?;
        Ok(ids)
    }

    /// [`WriteTx::insert_new_users`]' rows on SQLite: a multi-row statement
    /// per chunk.
    async fn insert_user_rows(
        &mut self,
        app_id: i64,
        users: &[&(&ExternalId, UserInput<'_>)],
        keys: &[IndexKeys],
        now: i64,
    ) -> StoreResult<HashMap<String, i64>> {
        let marks = self.marks();
        let mut ids = HashMap::with_capacity(users.len());
        for (chunk, keys) in chunks(users).zip(chunks(keys)) {
            let sql = format!(
                "INSERT INTO users (app_id, external_id, user_name, email, active, created_at, updated_at, sort_name,
                 search_tokens) VALUES {} ON CONFLICT (app_id, external_id) DO NOTHING RETURNING external_id, id",
                marks.values(chunk.len(), 9)
            );
            let inserted: Vec<(String, i64)> = with_tx!(self, |conn| {
                let mut query = sqlx::query_as(&sql);
                for ((external_id, input), keys) in chunk.iter().zip(keys) {
                    query = query
                        .bind(app_id)
                        .bind(external_id.as_str())
                        .bind(input.user_name)
                        .bind(input.email)
                        .bind(true)
                        .bind(now)
                        .bind(now)
                        .bind(&keys.sort_name)
                        .bind(keys.listed());
                }
                query.fetch_all(&mut *conn).await
            })?;
            ids.extend(inserted);
        }
        Ok(ids)
    }

    /// [`WriteTx::insert_new_users`]' rows on PostgreSQL: one statement
    /// over arrays, in the users' (userID) order.
    async fn insert_user_arrays(
        &mut self,
        app_id: i64,
        users: &[&(&ExternalId, UserInput<'_>)],
        keys: &[IndexKeys],
        now: i64,
    ) -> StoreResult<HashMap<String, i64>> {
        if users.is_empty() {
            return Ok(HashMap::new());
        }
        let external_ids: Vec<&str> = users.iter().map(|(external_id, _)| external_id.as_str()).collect();
        let names: Vec<Option<&str>> = users.iter().map(|(_, input)| input.user_name).collect();
        let emails: Vec<Option<&str>> = users.iter().map(|(_, input)| input.email).collect();
        let sort_names: Vec<&str> = keys.iter().map(|k| k.sort_name.as_str()).collect();
        let token_lists: Vec<String> = keys.iter().map(IndexKeys::listed).collect();
        let sql = "INSERT INTO users (app_id, external_id, user_name, email, active, created_at, updated_at, sort_name,
                   search_tokens)
                   SELECT $1, v.external_id, v.user_name, v.email, TRUE, $2, $2, v.sort_name, v.search_tokens
                   FROM UNNEST($3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
                     AS v(external_id, user_name, email, sort_name, search_tokens)
                   ON CONFLICT (app_id, external_id) DO NOTHING RETURNING external_id, id";
        let inserted: Vec<(String, i64)> = sqlx::query_as(sql)
            .bind(app_id)
            .bind(now)
            .bind(external_ids)
            .bind(names)
            .bind(emails)
            .bind(sort_names)
            .bind(token_lists)
            .fetch_all(&mut **self.postgres()?)
            .await?;
        Ok(inserted.into_iter().collect())
    }
}
