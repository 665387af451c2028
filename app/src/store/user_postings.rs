//! Broad searches in name or created order. Each token's entries are kept in
//! list order (user_search carries the stable sort keys), so a page is a
//! merge of a few index ranges read a batch at a time, whatever the number
//! of matches and wherever they cluster in the list ("carla" sorted by name
//! sits in the middle; a scan from the top would read every name before it).

use std::cmp::Ordering;
use std::collections::HashMap;

use super::user_search::prefix_range;
use super::users::summary_columns;
use super::users_list::{start_of, word_checks, SortKey, UserListQuery};
use super::{with_pool, Store, StoreResult};
use crate::model::{UserSort, UserSummary};

/// Entries read per token in the first round; each later round reads more.
const FIRST_BATCH: i64 = 128;
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

impl Store {
    /// One page of users found in `streams` (the narrowest word's entries)
    /// with tokens starting with each of `other_words`.
    pub(crate) async fn list_by_postings(
        &self,
        app_id: i64,
        streams: &[Stream],
        other_words: &[String],
        query: &UserListQuery<'_>,
    ) -> StoreResult<Vec<UserSummary>> {
        let sort = query.sort;
        let mut position = query.after.clone().unwrap_or_else(|| start_of(sort));
        let mut batch = FIRST_BATCH.max(query.limit * 2);
        let mut page = Vec::new();
        loop {
            // Merge the next `batch` entries of each token. Past the last
            // entry of a token that had more, the merge may miss users, so
            // this round only goes up to the earliest such entry (`bound`).
            let mut merged: Vec<Position> = Vec::new();
            let mut bound: Option<Position> = None;
            for stream in streams {
                let entries = self.postings_after(app_id, stream, &position, batch).await?;
                if entries.len() as i64 == batch {
                    let last = entries.last().cloned();
                    bound = match (bound, last) {
                        (Some(b), Some(l)) => Some(if in_list_order(sort, &l, &b).is_lt() { l } else { b }),
                        (b, l) => b.or(l),
                    };
                }
                merged.extend(entries);
            }
            merged.sort_by(|a, b| in_list_order(sort, a, b));
            merged.dedup_by(|a, b| a.1 == b.1);
            if let Some(bound) = &bound {
                merged.retain(|p| in_list_order(sort, p, bound).is_le());
            }
            let ids: Vec<i64> = merged.iter().map(|p| p.1).collect();
            let mut kept = self.users_among(app_id, &ids, other_words, query.include_deactivated).await?;
            for id in ids {
                if let Some(user) = kept.remove(&id) {
                    page.push(user);
                    if page.len() as i64 == query.limit {
                        return Ok(page);
                    }
                }
            }
            match bound {
                Some(bound) => position = bound,
                None => return Ok(page),
            }
            batch = (batch * 4).min(MAX_BATCH);
        }
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
        // $1 app, $2/$3 position, $4 limit, then the token or the word's range.
        let tokens = match stream {
            Stream::Token(_) => "token = $5",
            Stream::Word(_) => "token >= $5 AND token < $6",
        };
        let (key, order) = match position.0 {
            SortKey::Text(_) => ("sort_name", "(sort_name, user_id) > ($2, $3) ORDER BY sort_name, user_id"),
            SortKey::Int(_) => {
                ("created_at", "(created_at, user_id) < ($2, $3) ORDER BY created_at DESC, user_id DESC")
            }
        };
        let sql = format!("SELECT {key}, user_id FROM user_search WHERE app_id = $1 AND {tokens} AND {order} LIMIT $4");
        macro_rules! entries {
            ($key:ty, $wrap:expr) => {{
                let rows: Vec<($key, i64)> = with_pool!(self, |pool| {
                    let mut q = sqlx::query_as(&sql).bind(app_id);
                    q = match &position.0 {
                        SortKey::Text(k) => q.bind(k.clone()),
                        SortKey::Int(k) => q.bind(*k),
                    };
                    q = q.bind(position.1).bind(limit);
                    q = match stream {
                        Stream::Token(token) => q.bind(token.clone()),
                        Stream::Word(word) => {
                            let (lo, hi) = prefix_range(word);
                            q.bind(lo).bind(hi)
                        }
                    };
                    q.fetch_all(pool).await
                })?;
                rows.into_iter().map(|(k, id)| ($wrap(k), id)).collect()
            }};
        }
        Ok(match position.0 {
            SortKey::Text(_) => entries!(String, SortKey::Text),
            SortKey::Int(_) => entries!(i64, SortKey::Int),
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
            word_checks(words.len(), ids.len() + 2)
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
