//! Writing users' search rows, in one place for every writer: single
//! upserts, bulk inserts and the start-up backfill all compute the keys with
//! [`IndexKeys::of`] and insert the rows with
//! [`WriteTx::insert_search_rows`] (one statement over arrays on
//! PostgreSQL, multi-row statements on SQLite).

use std::collections::HashMap;

use super::search::{listed_tokens, IndexKeys};
use crate::store::batch::{chunks, BindList};
use crate::store::{with_pool, with_tx, write_tx, Store, StoreResult, WriteTx};

/// Users re-indexed per transaction by the backfill.
const BACKFILL_BATCH: i64 = 1000;

/// One user's search rows: a row per token, each with the user's sort keys.
#[derive(Debug, Clone)]
pub(crate) struct SearchRows {
    pub app_id: i64,
    pub user_id: i64,
    pub created_at: i64,
    pub keys: IndexKeys,
}

/// A stored user whose keys are (re)computed from its fields.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct UserToIndex {
    pub id: i64,
    pub app_id: i64,
    pub created_at: i64,
    pub external_id: String,
    pub user_name: Option<String>,
    pub email: Option<String>,
}

impl UserToIndex {
    /// The user as stored, to (re)index.
    pub(crate) fn of(app_id: i64, user: &crate::model::UserSummary) -> Self {
        UserToIndex {
            id: user.id,
            app_id,
            created_at: user.created_at,
            external_id: user.external_id.clone(),
            user_name: user.user_name.clone(),
            email: user.email.clone(),
        }
    }

    fn rows(&self) -> SearchRows {
        let keys = IndexKeys::of(&self.external_id, self.user_name.as_deref(), self.email.as_deref());
        SearchRows { app_id: self.app_id, user_id: self.id, created_at: self.created_at, keys }
    }
}

/// One search row: (app, token, sort name, user, created).
type SearchRow<'a> = (i64, &'a str, &'a str, i64, i64);

/// The search rows of `users`, sorted in the by-name index's order (app,
/// token, sort name, user). A user's rows are spread over the whole index;
/// sorted, consecutive inserts go to neighbouring index pages.
fn in_index_order(users: &[SearchRows]) -> Vec<SearchRow<'_>> {
    let mut rows: Vec<SearchRow<'_>> = users
        .iter()
        .flat_map(|u| {
            u.keys
                .tokens
                .iter()
                .map(|token| (u.app_id, token.as_str(), u.keys.sort_name.as_str(), u.user_id, u.created_at))
        })
        .collect();
    rows.sort_unstable();
    rows
}

impl WriteTx {
    /// Inserts the search rows of users that have none yet: on PostgreSQL
    /// one statement over arrays (as the events, `event_rows.rs`; an
    /// import writes about sixteen rows per user, each into two b-trees),
    /// on SQLite a multi-row statement per chunk of rows.
    pub(crate) async fn insert_search_rows(&mut self, users: &[SearchRows]) -> StoreResult<()> {
        let rows = in_index_order(users);
        if self.is_postgres() {
            return self.insert_search_arrays(rows).await;
        }
        let marks = self.marks();
        let sql = |n| {
            format!(
                "INSERT INTO user_search (app_id, token, user_id, sort_name, created_at) VALUES {}",
                marks.values(n, 5)
            )
        };
        self.sqlite_rows(
            &rows,
            sql,
            |query| query,
            |query, (app_id, token, sort_name, user_id, created_at)| {
                query.bind(*app_id).bind(token.to_string()).bind(*user_id).bind(sort_name.to_string()).bind(*created_at)
            },
        )
        .await?;
        Ok(())
    }

    async fn insert_search_arrays(&mut self, rows: Vec<SearchRow<'_>>) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let (mut apps, mut tokens, mut names, mut ids, mut created) = (
            Vec::with_capacity(rows.len()),
            Vec::with_capacity(rows.len()),
            Vec::with_capacity(rows.len()),
            Vec::with_capacity(rows.len()),
            Vec::with_capacity(rows.len()),
        );
        for (app_id, token, sort_name, user_id, created_at) in rows {
            apps.push(app_id);
            tokens.push(token);
            names.push(sort_name);
            ids.push(user_id);
            created.push(created_at);
        }
        let sql = "INSERT INTO user_search (app_id, token, user_id, sort_name, created_at)
                   SELECT * FROM UNNEST($1::int8[], $2::text[], $3::int8[], $4::text[], $5::int8[])";
        sqlx::query(sql)
            .bind(apps)
            .bind(tokens)
            .bind(ids)
            .bind(names)
            .bind(created)
            .execute(&mut **self.postgres()?)
            .await?;
        Ok(())
    }

    /// Rewrites the sort key, token list and search rows of stored users
    /// (after a change of name or email, or of the folding). A user whose
    /// keys come out as stored keeps its rows untouched: re-sending or
    /// re-importing unchanged users writes no search rows. Only users the
    /// look-up finds (and so locks) get rows: one deleted meanwhile gets none.
    pub(crate) async fn reindex_users(&mut self, users: &[UserToIndex]) -> StoreResult<()> {
        let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
        let stored: HashMap<i64, ListedKeys> = self.listed_keys(&ids).await?.into_iter().map(|k| (k.id, k)).collect();
        let mut rows: Vec<SearchRows> = users.iter().map(UserToIndex::rows).collect();
        rows.retain(|row| stored.get(&row.user_id).is_some_and(|old| !old.holds(&row.keys)));
        let stale: Vec<&ListedKeys> = rows.iter().filter_map(|row| stored.get(&row.user_id)).collect();
        self.delete_listed(&stale).await?;
        let marks = self.marks();
        for chunk in chunks(&rows) {
            // VALUES columns are column1, column2… in both databases.
            let sql = format!(
                "UPDATE users SET sort_name = v.column2, search_tokens = v.column3 FROM (VALUES {}) AS v \
                 WHERE users.id = v.column1",
                marks.values(chunk.len(), 3)
            );
            with_tx!(self, |conn| {
                let mut query = sqlx::query(&sql);
                for user in chunk {
                    query = query.bind(user.user_id).bind(&user.keys.sort_name).bind(user.keys.listed());
                }
                query.execute(&mut *conn).await.map(|_| ())
            })?;
        }
        self.insert_search_rows(&rows).await
    }

    /// Deletes the search rows of the users `user_ids` (see
    /// [`WriteTx::delete_listed`]). Before a user's row is deleted.
    pub(crate) async fn delete_search_rows(&mut self, user_ids: &[i64]) -> StoreResult<()> {
        let listed = self.listed_keys(user_ids).await?;
        self.delete_listed(&listed.iter().collect::<Vec<_>>()).await
    }

    /// The keys stored on the rows of the users `user_ids` (those that
    /// exist), in id order. On PostgreSQL the rows are locked (in id order,
    /// as every writer that locks several users does) `FOR NO KEY UPDATE`,
    /// as an update of a user does: a concurrent re-index of one of them is
    /// waited for, and the list it wrote is the one read, while writes
    /// holding users `FOR KEY SHARE` (ingest, joins) go on.
    async fn listed_keys(&mut self, user_ids: &[i64]) -> StoreResult<Vec<ListedKeys>> {
        if user_ids.is_empty() {
            return Ok(Vec::new());
        }
        let lock = if self.is_postgres() { " FOR NO KEY UPDATE" } else { "" };
        let sql = format!(
            "SELECT id, app_id, sort_name, search_tokens FROM users WHERE id {} ORDER BY id{lock}",
            self.marks().in_bound_list(1, "bigint")
        );
        Ok(with_tx!(self, |conn| sqlx::query_as(&sql).bind_ids(user_ids).fetch_all(&mut *conn).await)?)
    }

    /// Deletes the search rows of users by their key, from the app, sort
    /// name and token list on each user's row (the table has no index by
    /// user): before the row is deleted or its keys change.
    async fn delete_listed(&mut self, users: &[&ListedKeys]) -> StoreResult<()> {
        if self.is_postgres() {
            return self.delete_listed_arrays(users).await;
        }
        let sql = format!(
            "DELETE FROM user_search WHERE app_id = $1 AND sort_name = $2 AND user_id = $3 AND token {}",
            self.marks().in_bound_list(4, "text")
        );
        for user in users {
            let tokens: Vec<&str> = listed_tokens(&user.list).collect();
            if tokens.is_empty() {
                continue;
            }
            with_tx!(self, |conn| sqlx::query(&sql)
                .bind(user.app_id)
                .bind(&user.sort_name)
                .bind(user.id)
                .bind_names(&tokens)
                .execute(&mut *conn)
                .await
                .map(|_| ()))?;
        }
        Ok(())
    }

    /// [`WriteTx::delete_listed`] on PostgreSQL: one statement over arrays
    /// of keys instead of a round trip per user (a re-import of a chunk of
    /// renamed users deletes a thousand users' rows). The keys go in the
    /// primary key's order, so consecutive look-ups land on neighbouring
    /// index pages, as the inserts do ([`in_index_order`]).
    async fn delete_listed_arrays(&mut self, users: &[&ListedKeys]) -> StoreResult<()> {
        let mut keys: Vec<(i64, &str, &str, i64)> = users
            .iter()
            .flat_map(|user| {
                listed_tokens(&user.list).map(|token| (user.app_id, token, user.sort_name.as_str(), user.id))
            })
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        keys.sort_unstable();
        let (mut apps, mut tokens, mut names, mut ids) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (app_id, token, sort_name, user_id) in keys {
            apps.push(app_id);
            tokens.push(token);
            names.push(sort_name);
            ids.push(user_id);
        }
        let sql = "DELETE FROM user_search s
                   USING UNNEST($1::int8[], $2::text[], $3::text[], $4::int8[]) AS k(app_id, token, sort_name, user_id)
                   WHERE s.app_id = k.app_id AND s.token = k.token AND s.sort_name = k.sort_name
                     AND s.user_id = k.user_id";
        sqlx::query(sql).bind(apps).bind(tokens).bind(names).bind(ids).execute(&mut **self.postgres()?).await?;
        Ok(())
    }
}

/// A user's search keys as its row keeps them.
#[derive(sqlx::FromRow)]
struct ListedKeys {
    id: i64,
    app_id: i64,
    sort_name: String,
    #[sqlx(rename = "search_tokens")]
    list: String,
}

impl ListedKeys {
    /// Whether these are the keys `keys` (its rows are then the ones
    /// `keys` would write: every writer keeps list and rows in step).
    fn holds(&self, keys: &IndexKeys) -> bool {
        self.sort_name == keys.sort_name && self.list == keys.listed()
    }
}

impl Store {
    /// Re-indexes users whose sort key is empty: new after the migration
    /// that introduced the keys, or reset by one that changed how they are
    /// computed (0008, accent folding). A no-op afterwards.
    ///
    /// A marked user's search rows were written under its old keys, so
    /// they cannot be found by key: they are deleted first, in one pass
    /// over the search table.
    pub(crate) async fn backfill_user_index(&self) -> StoreResult<()> {
        let marked = "SELECT EXISTS (SELECT 1 FROM users WHERE sort_name = '')";
        if !with_pool!(self, |pool| sqlx::query_scalar::<_, bool>(marked).fetch_one(pool).await)? {
            return Ok(());
        }
        let stale = "DELETE FROM user_search WHERE user_id IN (SELECT id FROM users WHERE sort_name = '')";
        write_tx!(self, |tx| Ok(with_tx!(tx, |conn| sqlx::query(stale).execute(&mut *conn).await.map(|_| ()))?))?;
        let pending = "SELECT id, app_id, created_at, external_id, user_name, email FROM users
                       WHERE sort_name = '' AND id > $1 ORDER BY id LIMIT $2";
        let (mut last, mut done) = (0_i64, 0_usize);
        loop {
            let users: Vec<UserToIndex> =
                with_pool!(self, |pool| sqlx::query_as(pending).bind(last).bind(BACKFILL_BATCH).fetch_all(pool).await)?;
            let Some(newest) = users.last() else { return Ok(()) };
            last = newest.id;
            write_tx!(self, |tx| tx.reindex_users(&users).await)?;
            done += users.len();
            if done % 100_000 < users.len() {
                tracing::info!(users = done, "re-indexing users for search");
            }
            if (users.len() as i64) < BACKFILL_BATCH {
                return Ok(());
            }
        }
    }
}
