//! Broad searches in name or created order. Each token's entries are kept in
//! list order (user_search carries the stable sort keys), so a page is a
//! merge of a few index ranges read a batch at a time, whatever the number
//! of matches and wherever they cluster in the list ("carla" sorted by name
//! sits in the middle; a scan from the top would read every name before it).

use std::cmp::Ordering;
use std::collections::{HashMap, VecDeque};

use super::user_search::prefix_range;
use super::users::summary_columns;
use super::users_list::{start_of, word_checks, SortKey, UserListQuery};
use super::{with_pool, Store, StoreResult};
use crate::model::{UserSort, UserSummary};

/// Entries read per token by a cursor's first read; reads that continue
/// where the last one ended read more each time, up to `MAX_BATCH`.
const FIRST_BATCH: i64 = 64;
const MAX_BATCH: i64 = 4096;

/// A user's position in the list: (sort key, user id).
pub(crate) type Position = (SortKey, i64);

/// Index entries in list order.
pub(crate) enum Stream {
    /// One token's entries: read straight from the index in order.
    Token(String),
    /// Every token a word prefixes: the database sorts the whole range (for
    /// a word covering too many tokens to merge one by one).
    Word(String),
}

/// `a` against `b` in `sort`'s list order (name ascending, created newest first).
fn in_list_order(sort: UserSort, a: &Position, b: &Position) -> Ordering {
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
fn next_of(sort: UserSort, p: &Position) -> Position {
    (p.0.clone(), if sort == UserSort::Name { p.1 + 1 } else { p.1 - 1 })
}

/// The position right before `p` in list order.
fn prev_of(sort: UserSort, p: &Position) -> Position {
    (p.0.clone(), if sort == UserSort::Name { p.1 - 1 } else { p.1 + 1 })
}

/// One search word's entries in list order: the merge of its streams, read
/// a batch at a time from wherever the search seeks to.
struct WordCursor {
    streams: Vec<Stream>,
    /// Every entry from the last read's start up to `complete_to`.
    buffer: VecDeque<Position>,
    /// How far the buffer is complete; `None` once a read reached the end.
    complete_to: Option<Position>,
    read_once: bool,
    batch: i64,
}

impl WordCursor {
    fn new(streams: Vec<Stream>) -> Self {
        WordCursor { streams, buffer: VecDeque::new(), complete_to: None, read_once: false, batch: FIRST_BATCH }
    }

    /// The word's first entry at or after `target` (targets only move
    /// forward), or `None` when it has no more.
    async fn seek(
        &mut self,
        store: &Store,
        app_id: i64,
        sort: UserSort,
        target: &Position,
    ) -> StoreResult<Option<Position>> {
        while self.buffer.front().is_some_and(|p| in_list_order(sort, p, target).is_lt()) {
            self.buffer.pop_front();
        }
        if self.buffer.is_empty() && !(self.read_once && self.complete_to.is_none()) {
            self.read_from(store, app_id, sort, target).await?;
        }
        Ok(self.buffer.front().cloned())
    }

    /// Refills the buffer with the entries from `from` on. Past the last
    /// entry of a stream that had more, the merge may miss entries, so the
    /// buffer only goes up to the earliest such entry.
    async fn read_from(&mut self, store: &Store, app_id: i64, sort: UserSort, from: &Position) -> StoreResult<()> {
        // Reading on where the last read ended: read more; after a jump, few.
        let continues =
            self.complete_to.as_ref().is_some_and(|end| in_list_order(sort, from, &next_of(sort, end)).is_le());
        self.batch = if continues { (self.batch * 4).min(MAX_BATCH) } else { FIRST_BATCH };
        let after = prev_of(sort, from);
        let mut merged: Vec<Position> = Vec::new();
        let mut bound: Option<Position> = None;
        for stream in &self.streams {
            let entries = store.postings_after(app_id, stream, &after, self.batch).await?;
            if entries.len() as i64 == self.batch {
                let last = entries.last().cloned();
                bound = match (bound, last) {
                    (Some(b), Some(l)) => Some(if in_list_order(sort, &l, &b).is_lt() { l } else { b }),
                    (b, l) => b.or(l),
                };
            }
            merged.extend(entries);
        }
        merged.sort_by(|a, b| in_list_order(sort, a, b));
        merged.dedup();
        if let Some(bound) = &bound {
            merged.retain(|p| in_list_order(sort, p, bound).is_le());
        }
        self.buffer = merged.into();
        self.complete_to = bound;
        self.read_once = true;
        Ok(())
    }
}

impl Store {
    /// One page of the users every word's cursor holds (a leapfrog over the
    /// sorted entries: each cursor skips straight to the position another
    /// one reached), with tokens starting with each of `checked_words`, in
    /// the list's order.
    pub(crate) async fn list_by_postings(
        &self,
        app_id: i64,
        merged_words: Vec<Vec<Stream>>,
        checked_words: &[String],
        query: &UserListQuery<'_>,
    ) -> StoreResult<Vec<UserSummary>> {
        let sort = query.sort;
        let mut cursors: Vec<WordCursor> = merged_words.into_iter().map(WordCursor::new).collect();
        let mut target = next_of(sort, &query.after.clone().unwrap_or_else(|| start_of(sort)));
        let mut page = Vec::new();
        let mut found: Vec<i64> = Vec::new();
        let mut check_size = query.limit;
        loop {
            let next = self.next_match(app_id, sort, &mut cursors, &target).await?;
            if let Some(position) = &next {
                target = next_of(sort, position);
                found.push(position.1);
            }
            // Matches are checked (active, other words) a batch at a time.
            if next.is_none() || found.len() as i64 >= check_size {
                let mut kept = self.users_among(app_id, &found, checked_words, query.include_deactivated).await?;
                for id in found.drain(..) {
                    if let Some(user) = kept.remove(&id) {
                        page.push(user);
                        if page.len() as i64 == query.limit {
                            return Ok(page);
                        }
                    }
                }
                check_size = (check_size * 4).min(MAX_BATCH);
            }
            if next.is_none() {
                return Ok(page);
            }
        }
    }

    /// The first position at or after `target` that every cursor holds.
    async fn next_match(
        &self,
        app_id: i64,
        sort: UserSort,
        cursors: &mut [WordCursor],
        target: &Position,
    ) -> StoreResult<Option<Position>> {
        let Some((lead, others)) = cursors.split_first_mut() else {
            return Ok(None);
        };
        let Some(mut candidate) = lead.seek(self, app_id, sort, target).await? else {
            return Ok(None);
        };
        let mut i = 0;
        while i < others.len() {
            let Some(reached) = others[i].seek(self, app_id, sort, &candidate).await? else {
                return Ok(None);
            };
            if reached == candidate {
                i += 1;
                continue;
            }
            // Nothing before `reached` can match: the lead jumps there.
            let Some(next) = lead.seek(self, app_id, sort, &reached).await? else {
                return Ok(None);
            };
            candidate = next;
            i = 0;
        }
        Ok(Some(candidate))
    }

    /// Up to `limit` entries of `stream` after `position`, in list order
    /// (by name for a text position, newest first for a created one).
    async fn postings_after(
        &self,
        app_id: i64,
        stream: &Stream,
        position: &Position,
        limit: i64,
    ) -> StoreResult<Vec<Position>> {
        let (tokens, texts) = match stream {
            Stream::Token(token) => ("token = $5", vec![token.clone()]),
            Stream::Word(word) => {
                let (lo, hi) = prefix_range(word);
                ("token >= $5 AND token < $6", vec![lo, hi])
            }
        };
        let (key, order) = match position.0 {
            SortKey::Text(_) => ("sort_name", "(sort_name, user_id) > ($2, $3) ORDER BY sort_name, user_id"),
            SortKey::Int(_) => {
                ("created_at", "(created_at, user_id) < ($2, $3) ORDER BY created_at DESC, user_id DESC")
            }
        };
        let sql = format!("SELECT {key}, user_id FROM user_search WHERE app_id = $1 AND {tokens} AND {order} LIMIT $4");
        self.read_positions(&sql, app_id, position, limit, &texts).await
    }

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

    /// The users among `ids` that are in the app, active (unless
    /// `include_deactivated`) and match every one of `words`, by id.
    async fn users_among(
        &self,
        app_id: i64,
        ids: &[i64],
        words: &[String],
        include_deactivated: bool,
    ) -> StoreResult<HashMap<i64, UserSummary>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            // `+app_id`: look the ids up by key, not by scanning the app's users.
            concat!("SELECT ", summary_columns!(), " FROM users WHERE id IN ({}) AND +app_id = $1{}{}"),
            placeholders.join(", "),
            if include_deactivated { "" } else { " AND active" },
            word_checks(words.len(), ids.len() + 2, "users.id")
        );
        let users: Vec<UserSummary> = with_pool!(self, |pool| {
            let mut q = sqlx::query_as::<_, UserSummary>(&sql).bind(app_id);
            for id in ids {
                q = q.bind(*id);
            }
            for (lo, hi) in words.iter().map(|w| prefix_range(w)) {
                q = q.bind(lo).bind(hi);
            }
            q.fetch_all(pool).await
        })?;
        Ok(users.into_iter().map(|u| (u.id, u)).collect())
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
    }
}
