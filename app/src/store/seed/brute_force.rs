//! The users list's reference answer, by brute force: every user of the
//! app read once, tokenised and matched in memory, sorted in list order.
//! The benchmark compares each search's first page with it; slow and
//! exhaustive on purpose, sharing nothing with the planner but the
//! definition of a token.

use std::cmp::Reverse;

use crate::model::{UserFilter, UserSort};
use crate::store::user_list::search::{search_tokens, search_words, sort_name};
use crate::store::{with_pool, Store, StoreResult};

struct Row {
    id: i64,
    tokens: Vec<String>,
    sort_name: String,
    active: bool,
    created_at: i64,
    last_seen_at: i64,
}

/// Every user of one app, as the brute force matches them.
pub struct BruteForce {
    rows: Vec<Row>,
}

impl Store {
    /// Reads every user of `app_id` for [`BruteForce::first_page`].
    pub async fn brute_force(&self, app_id: i64) -> StoreResult<BruteForce> {
        type Raw = (i64, String, Option<String>, Option<String>, bool, i64, Option<i64>);
        let sql =
            "SELECT id, external_id, user_name, email, active, created_at, last_seen_at FROM users WHERE app_id = $1";
        let raw: Vec<Raw> = with_pool!(self, |pool| sqlx::query_as(sql).bind(app_id).fetch_all(pool).await)?;
        let rows = raw
            .into_iter()
            .map(|(id, external_id, user_name, email, active, created_at, last_seen_at)| Row {
                id,
                tokens: search_tokens(&external_id, user_name.as_deref(), email.as_deref()),
                sort_name: sort_name(&external_id, user_name.as_deref()),
                active,
                created_at,
                last_seen_at: last_seen_at.unwrap_or(0),
            })
            .collect();
        Ok(BruteForce { rows })
    }
}

impl BruteForce {
    /// The ids of the first `limit` users `filter` matches (no segment), in
    /// list order, and how many match in all.
    pub fn first_page(&self, filter: &UserFilter, limit: usize) -> (Vec<i64>, usize) {
        self.first_page_where(filter, limit, |_| true)
    }

    /// [`BruteForce::first_page`] among the users whose id `keep` keeps (the
    /// bench's property filters, evaluated from how it generated them).
    pub fn first_page_where(&self, filter: &UserFilter, limit: usize, keep: impl Fn(i64) -> bool) -> (Vec<i64>, usize) {
        let words = search_words(&filter.search);
        let mut found: Vec<&Row> = self
            .rows
            .iter()
            .filter(|r| filter.include_deactivated || r.active)
            .filter(|r| keep(r.id))
            .filter(|r| words.iter().all(|w| r.tokens.iter().any(|t| t.starts_with(w.as_str()))))
            .collect();
        let total = found.len();
        match filter.sort {
            UserSort::Name => found.sort_by(|a, b| (&a.sort_name, a.id).cmp(&(&b.sort_name, b.id))),
            UserSort::Created => found.sort_by_key(|r| Reverse((r.created_at, r.id))),
            UserSort::LastActivity => found.sort_by_key(|r| Reverse((r.last_seen_at, r.id))),
        }
        (found.into_iter().take(limit).map(|r| r.id).collect(), total)
    }
}
