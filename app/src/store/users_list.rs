//! The users list's queries: one keyset page in a sort order, the bounded
//! total, and the plan that picks how a search is answered at scale.
//!
//! A search is planned once per request ([`Store::plan_search`]) from cheap,
//! bounded index probes; the strategies, cheapest first:
//! - **Driven**: the narrowest word has few matches (≤ [`SELECTIVE`] index
//!   entries), so its matches are fetched and sorted.
//! - **Postings**: a broad word in name or created order whose prefix covers
//!   few distinct tokens: their index ranges are already in list order, so
//!   they are merged a batch at a time, and words that are the same kind
//!   are intersected by leapfrogging (`user_postings.rs`).
//! - **ScanThenWord**: name or created order, a word covering many tokens:
//!   a short walk in list order, then the word's entries sorted by the
//!   database (its matches may cluster past the walk).
//! - **Scan**: last-activity order (postings do not carry it): users are
//!   walked in list order, each checked by index; a broad word finds a page
//!   after a few hundred rows.

use super::user_postings::{Position, Stream};
use super::user_search::{prefix_range, search_words, sort_name};
use super::users::summary_columns;
use super::{with_pool, Store, StoreResult};
use crate::model::{UserSort, UserSummary};

/// A word with at most this many index entries drives the query.
const SELECTIVE: i64 = 2000;
/// How many users a name/created walk checks before it turns to the
/// word's sorted index entries.
const SCAN_WINDOW: i64 = 2000;
/// How far the index entries of several broad words are counted to tell
/// which one is narrowest (a few milliseconds each at most).
const BROAD_PROBE: i64 = 20_000;
/// A broad word whose prefix covers at most this many distinct tokens is
/// answered by merging their sorted postings.
const MERGE_TOKENS: usize = 16;

/// A position in one of the list's orders.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKey {
    Int(i64),
    Text(String),
}

/// How a search is answered (see the module docs).
#[derive(Debug, Clone, Default, PartialEq)]
pub enum SearchStrategy {
    /// No search: the list in its order.
    #[default]
    Everyone,
    Driven,
    /// The distinct tokens of the first words (the narrowest first) whose
    /// prefixes cover few; the words after those are checked row by row.
    Postings(Vec<Vec<String>>),
    /// Users walked in list order (activity order, which postings lack).
    Scan,
    /// Name or created order, a word covering too many tokens to merge: a
    /// short walk in list order, then the word's entries sorted by the
    /// database (they may cluster past the walk: "user12" in created order).
    ScanThenWord,
}

/// A search box's words, narrowest first, and how the search is answered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchPlan {
    pub(crate) words: Vec<String>,
    pub(crate) strategy: SearchStrategy,
    /// The first word covers one token, so no user has two of its entries.
    pub(crate) lead_is_one_token: bool,
}

impl SearchPlan {
    pub fn strategy(&self) -> &SearchStrategy {
        &self.strategy
    }
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
        UserSort::Name => SortKey::Text(sort_name(&user.external_id, user.user_name.as_deref())),
    }
}

/// A position before the first row of `sort` order.
pub(crate) fn start_of(sort: UserSort) -> (SortKey, i64) {
    match sort {
        UserSort::Name => (SortKey::Text(String::new()), 0),
        _ => (SortKey::Int(i64::MAX), i64::MAX),
    }
}

impl Store {
    /// Plans `search` for a list in `sort` order: the words, narrowest
    /// first, and the strategy. Shared by the page and its count.
    pub async fn plan_search(&self, app_id: i64, search: &str, sort: UserSort) -> StoreResult<SearchPlan> {
        let mut words = search_words(search);
        if words.is_empty() {
            return Ok(SearchPlan::default());
        }
        let mut sizes = Vec::with_capacity(words.len());
        for word in &words {
            sizes.push(self.index_entries(app_id, word, SELECTIVE + 1).await?);
        }
        // Several broad words: a closer look tells which one to walk.
        if sizes.iter().filter(|&&size| size > SELECTIVE).count() > 1 {
            for (word, size) in words.iter().zip(sizes.iter_mut()).filter(|(_, size)| **size > SELECTIVE) {
                *size = self.index_entries(app_id, word, BROAD_PROBE).await?;
            }
        }
        let narrowest = (0..words.len()).min_by_key(|&i| sizes[i]).unwrap_or(0);
        words.swap(0, narrowest);
        let strategy = if sizes[narrowest] <= SELECTIVE {
            SearchStrategy::Driven
        } else if sort == UserSort::LastActivity {
            // Activity changes all the time, so postings do not carry it.
            SearchStrategy::Scan
        } else {
            let mut merged = Vec::new();
            let mut checked = Vec::new();
            for (i, word) in words.iter().enumerate() {
                match self.tokens_with_prefix(app_id, word, MERGE_TOKENS + 1).await? {
                    tokens if tokens.len() <= MERGE_TOKENS => merged.push((word.clone(), tokens)),
                    _ if i == 0 => break,
                    _ => checked.push(word.clone()),
                }
            }
            if merged.is_empty() {
                SearchStrategy::ScanThenWord
            } else {
                // Words that merge first (the narrowest leads), then the checked ones.
                let tokens = merged.iter().map(|(_, tokens)| tokens.clone()).collect();
                words = merged.into_iter().map(|(word, _)| word).chain(checked).collect();
                SearchStrategy::Postings(tokens)
            }
        };
        let lead_is_one_token = match &strategy {
            SearchStrategy::Postings(tokens) => tokens[0].len() == 1,
            // Already seen to cover more than MERGE_TOKENS tokens.
            SearchStrategy::ScanThenWord => false,
            _ => self.tokens_with_prefix(app_id, &words[0], 2).await?.len() == 1,
        };
        Ok(SearchPlan { words, strategy, lead_is_one_token })
    }

    /// How many index entries start with `word`, counting at most `up_to`.
    async fn index_entries(&self, app_id: i64, word: &str, up_to: i64) -> StoreResult<i64> {
        let sql = "SELECT COUNT(*) FROM (SELECT 1 FROM user_search WHERE app_id = $1 AND token >= $2 AND token < $3
                   LIMIT $4) AS matching";
        let (lo, hi) = prefix_range(word);
        with_pool!(self, |pool| Ok(sqlx::query_scalar(sql)
            .bind(app_id)
            .bind(lo)
            .bind(hi)
            .bind(up_to)
            .fetch_one(pool)
            .await?))
    }

    /// Up to `up_to` distinct tokens starting with `word`, one index seek each.
    async fn tokens_with_prefix(&self, app_id: i64, word: &str, up_to: usize) -> StoreResult<Vec<String>> {
        let first = "SELECT token FROM user_search WHERE app_id = $1 AND token >= $2 AND token < $3
                     ORDER BY token LIMIT 1";
        let next = "SELECT token FROM user_search WHERE app_id = $1 AND token > $2 AND token < $3
                    ORDER BY token LIMIT 1";
        let (lo, hi) = prefix_range(word);
        let mut tokens: Vec<String> = Vec::new();
        while tokens.len() < up_to {
            let (sql, from) = match tokens.last() {
                Some(last) => (next, last.clone()),
                None => (first, lo.clone()),
            };
            let token: Option<String> = with_pool!(self, |pool| sqlx::query_scalar(sql)
                .bind(app_id)
                .bind(from)
                .bind(&hi)
                .fetch_optional(pool)
                .await)?;
            match token {
                Some(token) => tokens.push(token),
                None => break,
            }
        }
        Ok(tokens)
    }

    /// One page of the users list: the plan's search in `query`'s order,
    /// after the keyset position `after` (the previous page's last row).
    pub async fn list_users(&self, app_id: i64, query: &UserListQuery<'_>) -> StoreResult<Vec<UserSummary>> {
        let plan = query.search;
        match &plan.strategy {
            SearchStrategy::Postings(tokens) => {
                let merged = tokens.iter().map(|word| word.iter().cloned().map(Stream::Token).collect()).collect();
                self.list_by_postings(app_id, merged, &plan.words[tokens.len()..], query).await
            }
            SearchStrategy::ScanThenWord => {
                let mut page = self.list_in_order(app_id, query, Some(SCAN_WINDOW)).await?;
                if page.len() as i64 == query.limit {
                    return Ok(page);
                }
                let Some(window_end) = self.window_end(app_id, query, SCAN_WINDOW).await? else {
                    return Ok(page); // the walk reached the end of the list
                };
                let rest = UserListQuery { after: Some(window_end), limit: query.limit - page.len() as i64, ..*query };
                let lead = vec![vec![Stream::Word(plan.words[0].clone())]];
                page.extend(self.list_by_postings(app_id, lead, &plan.words[1..], &rest).await?);
                Ok(page)
            }
            _ => self.list_in_order(app_id, query, None).await,
        }
    }

    /// The page by a walk in list order (from the matches of a driven
    /// search's first word), over at most `window` users when given.
    async fn list_in_order(
        &self,
        app_id: i64,
        query: &UserListQuery<'_>,
        window: Option<i64>,
    ) -> StoreResult<Vec<UserSummary>> {
        let plan = query.search;
        let driven = plan.strategy == SearchStrategy::Driven;
        let sql = list_sql(query.sort, query.include_deactivated, plan.words.len(), driven, window.is_some());
        let (key, after_id) = query.after.clone().unwrap_or_else(|| start_of(query.sort));
        with_pool!(self, |pool| {
            let mut q = sqlx::query_as::<_, UserSummary>(&sql).bind(app_id);
            q = match &key {
                SortKey::Int(k) => q.bind(*k),
                SortKey::Text(k) => q.bind(k.clone()),
            };
            q = q.bind(after_id);
            for (lo, hi) in plan.words.iter().map(|w| prefix_range(w)) {
                q = q.bind(lo).bind(hi);
            }
            q = q.bind(query.limit);
            if let Some(window) = window {
                q = q.bind(window);
            }
            Ok(q.fetch_all(pool).await?)
        })
    }

    /// The position of the `window`-th user after the query's position (in
    /// its order and active filter), or `None` when fewer are left.
    async fn window_end(&self, app_id: i64, query: &UserListQuery<'_>, window: i64) -> StoreResult<Option<Position>> {
        let active = if query.include_deactivated { "" } else { " AND active" };
        let (keyset, order) = order_fragments(query.sort);
        let key = match query.sort {
            UserSort::Name => "sort_name",
            UserSort::Created => "created_at",
            UserSort::LastActivity => "COALESCE(last_seen_at, 0)",
        };
        let sql = format!("SELECT {key}, id FROM users WHERE app_id = $1{active}{keyset}{order} LIMIT 1 OFFSET $4");
        let after = query.after.clone().unwrap_or_else(|| start_of(query.sort));
        Ok(self.read_positions(&sql, app_id, &after, window - 1, &[]).await?.pop())
    }

    /// How many users match the plan's search (and active filter), counting
    /// at most `up_to` (so a count stays cheap at a million users).
    pub async fn count_users(
        &self,
        app_id: i64,
        search: &SearchPlan,
        include_deactivated: bool,
        up_to: i64,
    ) -> StoreResult<i64> {
        let words = &search.words;
        let sql = count_sql(include_deactivated, words.len(), !search.lead_is_one_token);
        with_pool!(self, |pool| {
            let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(app_id);
            for (lo, hi) in words.iter().map(|w| prefix_range(w)) {
                q = q.bind(lo).bind(hi);
            }
            Ok(q.bind(up_to).fetch_one(pool).await?)
        })
    }
}

/// `AND EXISTS` checks that user `user_id` (an SQL expression) has a token
/// in each [lo, hi) pair, with placeholders from `$first` on (one index
/// seek per check).
pub(crate) fn word_checks(words: usize, first: usize, user_id: &str) -> String {
    (0..words)
        .map(|i| {
            format!(
                " AND EXISTS (SELECT 1 FROM user_search s WHERE s.user_id = {user_id} AND s.token >= ${} \
                 AND s.token < ${})",
                first + 2 * i,
                first + 2 * i + 1
            )
        })
        .collect()
}

/// The keyset condition ($2, $3) and the ORDER BY of `sort`.
fn order_fragments(sort: UserSort) -> (&'static str, &'static str) {
    match sort {
        UserSort::LastActivity => {
            (" AND (COALESCE(last_seen_at, 0), id) < ($2, $3)", " ORDER BY COALESCE(last_seen_at, 0) DESC, id DESC")
        }
        UserSort::Name => (" AND (sort_name, id) > ($2, $3)", " ORDER BY sort_name, id"),
        UserSort::Created => (" AND (created_at, id) < ($2, $3)", " ORDER BY created_at DESC, id DESC"),
    }
}

/// Builds the list query from fixed fragments; every value is a bound
/// parameter: $1 app, $2/$3 keyset, then a [lo, hi) pair per search word,
/// then the limit, then the window. `driven`: start from the first word's
/// matches instead of walking users in list order. `windowed`: check only
/// the next `window` users.
fn list_sql(sort: UserSort, include_deactivated: bool, words: usize, driven: bool, windowed: bool) -> String {
    let (keyset, order) = order_fragments(sort);
    let active = if include_deactivated { "" } else { " AND active" };
    let from = if driven {
        " FROM (SELECT DISTINCT user_id FROM user_search WHERE app_id = $1 AND token >= $4 AND token < $5) AS m \
         CROSS JOIN users WHERE users.id = m.user_id AND users.app_id = $1"
            .to_string()
    } else if windowed {
        format!(
            concat!(
                " FROM (SELECT ",
                summary_columns!(),
                ", sort_name FROM users WHERE app_id = $1{}{}{} LIMIT ${}) AS users WHERE TRUE"
            ),
            active,
            keyset,
            order,
            5 + 2 * words
        )
    } else {
        " FROM users WHERE app_id = $1".to_string()
    };
    let mut sql = format!(concat!("SELECT ", summary_columns!(), "{}"), from);
    if !windowed {
        sql.push_str(active);
        sql.push_str(keyset);
    }
    let checked = if driven { words.saturating_sub(1) } else { words };
    sql.push_str(&word_checks(checked, 4 + 2 * (words - checked), "users.id"));
    sql.push_str(order);
    sql.push_str(&format!(" LIMIT ${}", 4 + 2 * words));
    sql
}

/// The bounded count: $1 app, a [lo, hi) pair per word, then the bound.
/// A search counts the narrowest word's index entries, each user once (at
/// its first matching token, when `dedupe`), checking the other words by
/// index before reading the user's row (written as EXISTS so that both
/// databases keep this order and stop at the bound).
fn count_sql(include_deactivated: bool, words: usize, dedupe: bool) -> String {
    let active = if include_deactivated { "" } else { " AND active" };
    if words == 0 {
        return format!("SELECT COUNT(*) FROM (SELECT 1 FROM users WHERE app_id = $1{active} LIMIT $2) AS matching");
    }
    let first_only = if dedupe {
        " AND NOT EXISTS (SELECT 1 FROM user_search d WHERE d.user_id = m.user_id AND d.token >= $2 AND d.token < m.token)"
    } else {
        ""
    };
    let user = if include_deactivated {
        ""
    } else {
        " AND EXISTS (SELECT 1 FROM users WHERE users.id = m.user_id AND active)"
    };
    format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM user_search m WHERE m.app_id = $1 AND m.token >= $2 AND m.token < $3\
         {first_only}{}{user} LIMIT ${}) AS matching",
        word_checks(words - 1, 4, "m.user_id"),
        2 + 2 * words
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_bound_values() {
        let scan = list_sql(UserSort::Name, false, 2, false, false);
        assert!(scan.contains("s.token >= $4 AND s.token < $5") && scan.contains("s.token >= $6 AND s.token < $7"));
        assert!(scan.ends_with("LIMIT $8"), "{scan}");
        let driven = list_sql(UserSort::Created, true, 2, true, false);
        assert!(driven.contains("token >= $4 AND token < $5) AS m") && driven.contains("s.token >= $6"));
        assert!(!driven.contains(" AND active") && driven.ends_with("LIMIT $8"), "{driven}");
        let window = list_sql(UserSort::Name, false, 1, false, true);
        assert!(window.contains("LIMIT $7) AS users") && window.ends_with("LIMIT $6"), "{window}");
        let count = count_sql(false, 2, true);
        assert!(count.contains("s.token >= $4 AND s.token < $5") && count.ends_with("LIMIT $6) AS matching"));
        assert!(count.contains("NOT EXISTS") && count.contains("active"), "{count}");
        let count = count_sql(true, 1, false);
        assert!(!count.contains("NOT EXISTS") && !count.contains("active"), "{count}");
        assert!(count_sql(true, 0, true).ends_with("LIMIT $2) AS matching"));
    }
}
