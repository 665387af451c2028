//! Positions in the list's three orders, the keyset SQL fragments of each
//! order, and what one page request asks for (with its budget).

use std::cmp::Ordering;

use super::search::sort_name;
use crate::model::{UserSort, UserSummary};
use crate::store::{with_pool, Store, StoreResult};

/// A position in one of the list's orders.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKey {
    Int(i64),
    Text(String),
}

/// A user's position in the list: (sort key, user id).
pub type Position = (SortKey, i64);

/// How much one page request may read. Every walk stops at its budget and
/// answers the matches up to where it got (a *partial* page), so no request
/// is unbounded whatever the search. The defaults keep a page (plan, page
/// and count) within 100 ms at a million users on both databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Users a walk in list order checks, each by index.
    pub walk: i64,
    /// Cost of merging sorted postings: 1 per index entry read, 30 per
    /// matched user checked (active, other words).
    pub postings: i64,
    /// Index entries a search's count examines (everyone is counted up to
    /// twice the count's bound, from one index).
    pub count: i64,
    /// A filter segment with at most this many members drives the page: its
    /// members are read and sorted. A bigger one holds at least 1 % of a
    /// million users, so a walk in list order finds a page of them.
    pub members: i64,
    /// A word's prefix with at most this many index entries may be read
    /// whole (the range and intersect plans): a covering index scan of a
    /// quarter of a million entries stays within the page's time.
    pub range: i64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { walk: 1_500, postings: 30_000, count: 4_000, members: 10_000, range: 250_000 }
    }
}

/// One page of the list: everything but the search words.
#[derive(Debug, Clone)]
pub(crate) struct PageRequest {
    pub sort: UserSort,
    pub include_deactivated: bool,
    /// The (sort key, id) of the last row of the previous page.
    pub after: Option<Position>,
    pub limit: i64,
    pub budget: Budget,
}

impl PageRequest {
    /// The position the page starts after.
    pub fn after(&self) -> Position {
        self.after.clone().unwrap_or_else(|| start_of(self.sort))
    }
}

/// Rows of a page, and how far they are complete.
#[derive(Debug, Clone, Default)]
pub(crate) struct Found {
    pub users: Vec<UserSummary>,
    /// `Some(p)` when the budget ran out before the page filled up: `users`
    /// are every match up to `p` (inclusive), and the next page starts
    /// after `p`.
    pub stopped_at: Option<Position>,
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
pub(crate) fn start_of(sort: UserSort) -> Position {
    match sort {
        UserSort::Name => (SortKey::Text(String::new()), 0),
        _ => (SortKey::Int(i64::MAX), i64::MAX),
    }
}

/// `a` against `b` in `sort`'s list order (name ascending, others newest first).
pub(crate) fn in_list_order(sort: UserSort, a: &Position, b: &Position) -> Ordering {
    let ascending = match (&a.0, &b.0) {
        (SortKey::Text(x), SortKey::Text(y)) => x.cmp(y),
        (SortKey::Int(x), SortKey::Int(y)) => x.cmp(y),
        (SortKey::Int(_), SortKey::Text(_)) => Ordering::Less,
        (SortKey::Text(_), SortKey::Int(_)) => Ordering::Greater,
    }
    .then(a.1.cmp(&b.1));
    if sort == UserSort::Name {
        ascending
    } else {
        ascending.reverse()
    }
}

/// The position right after `p` in list order (user ids are integers).
pub(crate) fn next_of(sort: UserSort, p: &Position) -> Position {
    (p.0.clone(), if sort == UserSort::Name { p.1 + 1 } else { p.1 - 1 })
}

/// The position right before `p` in list order.
pub(crate) fn prev_of(sort: UserSort, p: &Position) -> Position {
    (p.0.clone(), if sort == UserSort::Name { p.1 - 1 } else { p.1 + 1 })
}

/// The sort key expression of `sort` on the users table.
pub(crate) fn key_column(sort: UserSort) -> &'static str {
    match sort {
        UserSort::Name => "sort_name",
        UserSort::Created => "created_at",
        UserSort::LastActivity => "COALESCE(last_seen_at, 0)",
    }
}

/// The keyset condition "after ($2, $3)" and the ORDER BY of `sort`. The
/// key alone is bounded too: SQLite bounds an index scan by a row value
/// only on plain columns, not on the activity index's expression.
pub(crate) fn order_fragments(sort: UserSort) -> (&'static str, &'static str) {
    match sort {
        UserSort::LastActivity => (
            " AND COALESCE(last_seen_at, 0) <= $2 AND (COALESCE(last_seen_at, 0), id) < ($2, $3)",
            " ORDER BY COALESCE(last_seen_at, 0) DESC, id DESC",
        ),
        UserSort::Name => (" AND sort_name >= $2 AND (sort_name, id) > ($2, $3)", " ORDER BY sort_name, id"),
        UserSort::Created => {
            (" AND created_at <= $2 AND (created_at, id) < ($2, $3)", " ORDER BY created_at DESC, id DESC")
        }
    }
}

/// "Up to and including ($a, $b)" in `sort` order, for placeholders `$a`,
/// `$a+1`; the key alone bounds the index scan (see [`order_fragments`]),
/// so a walk stops there even when it finds no match.
pub(crate) fn up_to_fragment(sort: UserSort, first: usize) -> String {
    let (a, b) = (first, first + 1);
    match sort {
        UserSort::LastActivity => {
            format!(" AND COALESCE(last_seen_at, 0) >= ${a} AND (COALESCE(last_seen_at, 0), id) >= (${a}, ${b})")
        }
        UserSort::Name => format!(" AND sort_name <= ${a} AND (sort_name, id) <= (${a}, ${b})"),
        UserSort::Created => format!(" AND created_at >= ${a} AND (created_at, id) >= (${a}, ${b})"),
    }
}

impl Store {
    /// Runs `sql`, which selects (sort key, user id) rows, with the bound
    /// values $1 app, $2/$3 `position`, $4 `n`, then `texts`.
    pub(crate) async fn read_positions(
        &self,
        sql: &str,
        app_id: i64,
        position: &Position,
        n: i64,
        texts: &[String],
    ) -> StoreResult<Vec<Position>> {
        macro_rules! read {
            ($key:ty, $wrap:expr) => {{
                let rows: Vec<($key, i64)> = with_pool!(self, |pool| {
                    let mut q = sqlx::query_as(sql).bind(app_id);
                    q = match &position.0 {
                        SortKey::Text(k) => q.bind(k.clone()),
                        SortKey::Int(k) => q.bind(*k),
                    };
                    q = q.bind(position.1).bind(n);
                    for text in texts {
                        q = q.bind(text.clone());
                    }
                    q.fetch_all(pool).await
                })?;
                rows.into_iter().map(|(k, id)| ($wrap(k), id)).collect()
            }};
        }
        Ok(match position.0 {
            SortKey::Text(_) => read!(String, SortKey::Text),
            SortKey::Int(_) => read!(i64, SortKey::Int),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_orders() {
        let name = |k: &str, id| (SortKey::Text(k.into()), id);
        assert!(in_list_order(UserSort::Name, &name("ana", 9), &name("bruno", 1)).is_lt());
        assert!(in_list_order(UserSort::Name, &name("ana", 1), &name("ana", 2)).is_lt());
        let created = |k, id| (SortKey::Int(k), id);
        assert!(in_list_order(UserSort::Created, &created(5, 1), &created(4, 9)).is_lt(), "newest first");
        assert!(in_list_order(UserSort::Created, &created(5, 2), &created(5, 1)).is_lt());
        for sort in UserSort::ALL {
            let p = if sort == UserSort::Name { name("x", 5) } else { created(5, 5) };
            assert!(in_list_order(sort, &prev_of(sort, &p), &p).is_lt());
            assert!(in_list_order(sort, &p, &next_of(sort, &p)).is_lt());
        }
    }
}
