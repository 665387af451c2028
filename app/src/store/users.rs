//! End-users of a customer app.

use super::user_search::{index_user, prefix_range, search_words};
use super::{with_pool, Store, StoreResult};
use crate::model::{UserSort, UserSummary};

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

impl Store {
    /// Creates or updates a user by its external id. Registering again
    /// reactivates a deactivated user.
    pub async fn upsert_user(
        &self,
        app_id: i64,
        external_id: &str,
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
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let user = sqlx::query_as::<_, UserSummary>(sql)
                .bind(app_id)
                .bind(external_id)
                .bind(input.user_name)
                .bind(input.email)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
            index_user!(&mut *tx, app_id, user.id, &user.external_id, user.user_name.as_deref(), user.email.as_deref());
            tx.commit().await?;
            Ok(user)
        })
    }

    pub async fn user_by_external_id(&self, app_id: i64, external_id: &str) -> StoreResult<Option<UserSummary>> {
        let sql = concat!("SELECT ", summary_columns!(), " FROM users WHERE app_id = $1 AND external_id = $2");
        with_pool!(self, |pool| Ok(sqlx::query_as::<_, UserSummary>(sql)
            .bind(app_id)
            .bind(external_id)
            .fetch_optional(pool)
            .await?))
    }

    /// One page of the users list: `filter`'s search and order, after the
    /// keyset position `after` (the previous page's last row).
    pub async fn list_users(&self, app_id: i64, query: &UserListQuery<'_>) -> StoreResult<Vec<UserSummary>> {
        let SearchPlan { words, driven } = query.search;
        let sql = list_sql(query.sort, query.include_deactivated, words.len(), false, *driven);
        let (key, after_id) = query.after.clone().unwrap_or_else(|| start_of(query.sort));
        with_pool!(self, |pool| {
            let mut q = sqlx::query_as::<_, UserSummary>(&sql).bind(app_id);
            q = match &key {
                SortKey::Int(k) => q.bind(*k),
                SortKey::Text(k) => q.bind(k.clone()),
            };
            q = q.bind(after_id);
            for (lo, hi) in words.iter().map(|w| prefix_range(w)) {
                q = q.bind(lo).bind(hi);
            }
            Ok(q.bind(query.limit).fetch_all(pool).await?)
        })
    }

    /// How many users match the list's search (and active filter), counting
    /// at most `up_to` (so a count stays cheap at a million users).
    pub async fn count_users(
        &self,
        app_id: i64,
        search: &SearchPlan,
        include_deactivated: bool,
        up_to: i64,
    ) -> StoreResult<i64> {
        let SearchPlan { words, driven } = search;
        let sql = list_sql(UserSort::Created, include_deactivated, words.len(), true, *driven);
        with_pool!(self, |pool| {
            let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(app_id);
            for (lo, hi) in words.iter().map(|w| prefix_range(w)) {
                q = q.bind(lo).bind(hi);
            }
            Ok(q.bind(up_to).fetch_one(pool).await?)
        })
    }

    /// The search words, narrowest first, and whether the narrowest is
    /// selective enough to drive the query from its matches (a few index
    /// entries) rather than scanning users in list order.
    /// Planned once per request and shared by the page and its count.
    pub async fn plan_search(&self, app_id: i64, search: &str) -> StoreResult<SearchPlan> {
        let mut words = search_words(search);
        if words.is_empty() {
            return Ok(SearchPlan { words, driven: false });
        }
        let sql = "SELECT COUNT(*) FROM (SELECT 1 FROM user_search WHERE app_id = $1 AND token >= $2 AND token < $3
                   LIMIT $4) AS matching";
        let mut sizes = Vec::with_capacity(words.len());
        for word in &words {
            let (lo, hi) = prefix_range(word);
            let size: i64 = with_pool!(self, |pool| sqlx::query_scalar(sql)
                .bind(app_id)
                .bind(lo)
                .bind(hi)
                .bind(SELECTIVE + 1)
                .fetch_one(pool)
                .await)?;
            sizes.push(size);
        }
        let narrowest = (0..words.len()).min_by_key(|&i| sizes[i]).unwrap_or(0);
        words.swap(0, narrowest);
        Ok(SearchPlan { driven: sizes[narrowest] <= SELECTIVE, words })
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
        let sql = "UPDATE users SET push_token = $1, updated_at = $2 WHERE app_id = $3 AND id = $4";
        let changed = with_pool!(self, |pool| sqlx::query(sql)
            .bind(token)
            .bind(now)
            .bind(app_id)
            .bind(user_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }

    /// The active user a Push Mail token belongs to, as (app id, user id).
    pub async fn user_by_push_token(&self, token: &str) -> StoreResult<Option<(i64, i64)>> {
        let sql = "SELECT app_id, id FROM users WHERE push_token = $1 AND active";
        with_pool!(self, |pool| Ok(sqlx::query_as::<_, (i64, i64)>(sql).bind(token).fetch_optional(pool).await?))
    }

    /// Hides a user and its devices from the dashboard until it registers again.
    pub async fn set_user_active(&self, app_id: i64, user_id: i64, active: bool, now: i64) -> StoreResult<bool> {
        let sql = "UPDATE users SET active = $1, updated_at = $2 WHERE app_id = $3 AND id = $4";
        with_pool!(self, |pool| Ok(sqlx::query(sql)
            .bind(active)
            .bind(now)
            .bind(app_id)
            .bind(user_id)
            .execute(pool)
            .await?
            .rows_affected()
            == 1))
    }
}

/// A position in one of the list's orders.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKey {
    Int(i64),
    Text(String),
}

/// A search box's words, narrowest first, and whether the narrowest one
/// drives the query (see [`Store::plan_search`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchPlan {
    words: Vec<String>,
    driven: bool,
}

/// What [`Store::list_users`] returns.
#[derive(Debug, Clone)]
pub struct UserListQuery<'a> {
    pub search: &'a SearchPlan,
    pub sort: UserSort,
    pub include_deactivated: bool,
    /// The (sort key, id) of the last row of the previous page.
    pub after: Option<(SortKey, i64)>,
    pub limit: i64,
}

/// The sort key of `user` in `sort` order (to make the next page's cursor).
pub fn sort_key_of(sort: UserSort, user: &UserSummary) -> SortKey {
    match sort {
        UserSort::LastActivity => SortKey::Int(user.last_seen_at.unwrap_or(0)),
        UserSort::Created => SortKey::Int(user.created_at),
        UserSort::Name => SortKey::Text(super::user_search::sort_name(&user.external_id, user.user_name.as_deref())),
    }
}

/// A position before the first row of `sort` order.
fn start_of(sort: UserSort) -> (SortKey, i64) {
    match sort {
        UserSort::Name => (SortKey::Text(String::new()), 0),
        _ => (SortKey::Int(i64::MAX), i64::MAX),
    }
}

/// A search word with at most this many index entries drives the query.
const SELECTIVE: i64 = 2000;

/// Builds the list (or count) query from fixed fragments; every value is a
/// bound parameter: $1 app, $2/$3 keyset (lists only), then a [lo, hi) pair
/// per search word, then the limit. `driven`: start from the first word's
/// matches instead of scanning users in list order.
fn list_sql(sort: UserSort, include_deactivated: bool, words: usize, count: bool, driven: bool) -> String {
    let first_word = if count { 2 } else { 4 };
    let from = if driven {
        format!(
            " FROM (SELECT DISTINCT user_id FROM user_search WHERE app_id = $1 AND token >= ${} AND token < ${}) AS m \
             CROSS JOIN users WHERE users.id = m.user_id AND users.app_id = $1",
            first_word,
            first_word + 1
        )
    } else {
        " FROM users WHERE app_id = $1".to_string()
    };
    let mut sql = if count {
        format!("SELECT COUNT(*) FROM (SELECT 1{from}")
    } else {
        format!("SELECT {}{from}", summary_columns!())
    };
    if !include_deactivated {
        sql.push_str(" AND active");
    }
    let mut next = 2;
    if !count {
        sql.push_str(match sort {
            UserSort::LastActivity => " AND (COALESCE(last_seen_at, 0), id) < ($2, $3)",
            UserSort::Name => " AND (sort_name, id) > ($2, $3)",
            UserSort::Created => " AND (created_at, id) < ($2, $3)",
        });
        next = 4;
    }
    if driven {
        next += 2;
    }
    for _ in (driven as usize)..words {
        // Driven: a few candidate rows, each checked by index. Scanning: the
        // word's matches as one list (measured faster than a check per row).
        let check = if driven {
            " AND EXISTS (SELECT 1 FROM user_search s WHERE s.user_id = users.id AND s.token >= ${lo} AND s.token < ${hi})"
        } else {
            " AND id IN (SELECT user_id FROM user_search WHERE app_id = $1 AND token >= ${lo} AND token < ${hi})"
        };
        sql.push_str(&check.replace("${lo}", &format!("${next}")).replace("${hi}", &format!("${}", next + 1)));
        next += 2;
    }
    if count {
        sql.push_str(&format!(" LIMIT ${next}) AS matching"));
    } else {
        sql.push_str(match sort {
            UserSort::LastActivity => " ORDER BY COALESCE(last_seen_at, 0) DESC, id DESC",
            UserSort::Name => " ORDER BY sort_name, id",
            UserSort::Created => " ORDER BY created_at DESC, id DESC",
        });
        sql.push_str(&format!(" LIMIT ${next}"));
    }
    sql
}
