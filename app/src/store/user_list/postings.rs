//! Broad searches in name or created order. Each token's entries are kept in
//! list order (user_search carries the stable sort keys), so a page is a
//! merge of a few index ranges read a batch at a time, wherever the matches
//! cluster in the list ("carla" sorted by name sits in the middle; a scan
//! from the top would read every name before it). Every read counts
//! against the request's budget; when it is spent, the page holds the
//! matches up to where the merge got.

use std::collections::{HashMap, VecDeque};

use super::keys::{in_list_order, next_of, prev_of, Found, PageRequest, Position, SortKey};
use super::properties::{bind_conditions, checks_sql, PropertyCondition};
use super::search::{check_pattern, word_checks};
use crate::model::{UserSort, UserSummary};
use crate::store::users::summary_columns;
use crate::store::{with_pool, Store, StoreResult};

/// Entries read per token by a cursor's first read; reads that continue
/// where the last one ended read more each time, up to `MAX_BATCH`.
const FIRST_BATCH: i64 = 64;
const MAX_BATCH: i64 = 4096;
/// Budget cost of checking one matched user (its row and other words).
const CHECK_COST: i64 = 30;

/// Where a seek got.
enum Seek {
    At(Position),
    /// The cursor has no entries at or after the target.
    End,
    /// The budget is spent: nothing before the target matches, the rest is unknown.
    Spent,
}

/// What one request has spent, and where its page starts.
struct Spending {
    spent: i64,
    budget: i64,
    /// The page's first possible position: a seek there always reads, so
    /// every page makes progress.
    floor: Position,
}

/// One search word's entries in list order: the merge of its tokens'
/// entries, read a batch at a time from wherever the search seeks to.
struct WordCursor {
    tokens: Vec<String>,
    /// Every entry from the last read's start up to `complete_to`.
    buffer: VecDeque<Position>,
    /// How far the buffer is complete; `None` once a read reached the end.
    complete_to: Option<Position>,
    read_once: bool,
    batch: i64,
}

impl WordCursor {
    fn new(tokens: Vec<String>) -> Self {
        WordCursor { tokens, buffer: VecDeque::new(), complete_to: None, read_once: false, batch: FIRST_BATCH }
    }

    /// The word's first entry at or after `target` (targets only move forward).
    async fn seek(
        &mut self,
        store: &Store,
        app_id: i64,
        sort: UserSort,
        target: &Position,
        spending: &mut Spending,
    ) -> StoreResult<Seek> {
        while self.buffer.front().is_some_and(|p| in_list_order(sort, p, target).is_lt()) {
            self.buffer.pop_front();
        }
        if self.buffer.is_empty() && !(self.read_once && self.complete_to.is_none()) {
            if spending.spent >= spending.budget && *target != spending.floor {
                return Ok(Seek::Spent);
            }
            self.read_from(store, app_id, sort, target, spending).await?;
        }
        Ok(self.buffer.front().cloned().map_or(Seek::End, Seek::At))
    }

    /// Refills the buffer with the entries from `from` on. Past the last
    /// entry of a token that had more, the merge may miss entries, so the
    /// buffer only goes up to the earliest such entry.
    async fn read_from(
        &mut self,
        store: &Store,
        app_id: i64,
        sort: UserSort,
        from: &Position,
        spending: &mut Spending,
    ) -> StoreResult<()> {
        // Reading on where the last read ended: read more; after a jump, few.
        let continues =
            self.complete_to.as_ref().is_some_and(|end| in_list_order(sort, from, &next_of(sort, end)).is_le());
        self.batch = if continues { (self.batch * 4).min(MAX_BATCH) } else { FIRST_BATCH };
        // Never far past the budget.
        let left = (spending.budget - spending.spent) / self.tokens.len() as i64;
        let batch = self.batch.min(left.max(FIRST_BATCH));
        let after = prev_of(sort, from);
        let mut merged: Vec<Position> = Vec::new();
        let mut bound: Option<Position> = None;
        for token in &self.tokens {
            let entries = store.postings_after(app_id, token, &after, batch).await?;
            spending.spent += entries.len() as i64;
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

/// The first position every cursor holds, or why there is none.
enum Step {
    Match(Position),
    End,
    /// Spent: every match up to this position (inclusive) was found.
    Spent(Position),
}

impl Store {
    /// One page of the users every word's cursor holds (a leapfrog over the
    /// sorted entries: each cursor skips straight to the position another
    /// one reached), with tokens starting with each of `checked_words`, in
    /// the list's order, within the request's postings budget.
    pub(crate) async fn list_by_postings(
        &self,
        app_id: i64,
        merged_words: &[Vec<String>],
        checked_words: &[String],
        properties: &[PropertyCondition],
        req: &PageRequest,
    ) -> StoreResult<Found> {
        let sort = req.sort;
        let mut cursors: Vec<WordCursor> = merged_words.iter().cloned().map(WordCursor::new).collect();
        let mut target = next_of(sort, &req.after());
        let mut spending = Spending { spent: 0, budget: req.budget.postings, floor: target.clone() };
        let mut users = Vec::new();
        let mut found: Vec<i64> = Vec::new();
        let mut check_size = req.limit;
        loop {
            let step = self.next_match(app_id, sort, &mut cursors, &target, &mut spending).await?;
            if let Step::Match(position) = &step {
                target = next_of(sort, position);
                found.push(position.1);
            }
            // Matches are checked (active, other words) a batch at a time,
            // and no later than the budget allows.
            let more = matches!(step, Step::Match(_));
            let over = spending.spent + CHECK_COST * found.len() as i64 >= spending.budget;
            if !more || over || found.len() as i64 >= check_size {
                spending.spent += CHECK_COST * found.len() as i64;
                let mut kept =
                    self.users_among(app_id, &found, checked_words, properties, req.include_deactivated).await?;
                for id in found.drain(..) {
                    if let Some(user) = kept.remove(&id) {
                        users.push(user);
                        if users.len() as i64 == req.limit {
                            return Ok(Found { users, stopped_at: None });
                        }
                    }
                }
                check_size = (check_size * 4).min(MAX_BATCH);
            }
            match step {
                // Every match up to the last one found is decided.
                Step::Match(_) if over => return Ok(Found { users, stopped_at: Some(prev_of(sort, &target)) }),
                Step::Match(_) => {}
                Step::End => return Ok(Found { users, stopped_at: None }),
                Step::Spent(at) => return Ok(Found { users, stopped_at: Some(at) }),
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
        spending: &mut Spending,
    ) -> StoreResult<Step> {
        let Some((lead, others)) = cursors.split_first_mut() else {
            return Ok(Step::End);
        };
        let mut candidate = match lead.seek(self, app_id, sort, target, spending).await? {
            Seek::At(p) => p,
            Seek::End => return Ok(Step::End),
            Seek::Spent => return Ok(Step::Spent(prev_of(sort, target))),
        };
        let mut i = 0;
        while i < others.len() {
            let reached = match others[i].seek(self, app_id, sort, &candidate, spending).await? {
                Seek::At(p) => p,
                Seek::End => return Ok(Step::End),
                Seek::Spent => return Ok(Step::Spent(prev_of(sort, &candidate))),
            };
            if reached == candidate {
                i += 1;
                continue;
            }
            // Nothing before `reached` can match: the lead jumps there.
            candidate = match lead.seek(self, app_id, sort, &reached, spending).await? {
                Seek::At(p) => p,
                Seek::End => return Ok(Step::End),
                Seek::Spent => return Ok(Step::Spent(prev_of(sort, &reached))),
            };
            i = 0;
        }
        Ok(Step::Match(candidate))
    }

    /// Up to `limit` entries of `token` after `position`, in list order
    /// (by name for a text position, newest first for a created one).
    async fn postings_after(
        &self,
        app_id: i64,
        token: &str,
        position: &Position,
        limit: i64,
    ) -> StoreResult<Vec<Position>> {
        let sql = match position.0 {
            SortKey::Text(_) => {
                "SELECT sort_name, user_id FROM user_search WHERE app_id = $1 AND token = $5 \
                 AND (sort_name, user_id) > ($2, $3) ORDER BY sort_name, user_id LIMIT $4"
            }
            SortKey::Int(_) => {
                "SELECT created_at, user_id FROM user_search WHERE app_id = $1 AND token = $5 \
                 AND (created_at, user_id) < ($2, $3) ORDER BY created_at DESC, user_id DESC LIMIT $4"
            }
        };
        self.read_positions(sql, app_id, position, limit, &[token.to_string()]).await
    }

    /// The users among `ids` that are in the app, active (unless
    /// `include_deactivated`) and match every one of `words`, by id.
    pub(super) async fn users_among(
        &self,
        app_id: i64,
        ids: &[i64],
        words: &[String],
        properties: &[PropertyCondition],
        include_deactivated: bool,
    ) -> StoreResult<HashMap<i64, UserSummary>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            // `+app_id`: look the ids up by key, not by scanning the app's users.
            concat!("SELECT ", summary_columns!(), " FROM users WHERE id IN ({}) AND +app_id = $1{}{}{}"),
            placeholders.join(", "),
            if include_deactivated { "" } else { " AND active" },
            word_checks(words.len(), ids.len() + 2, "users.search_tokens"),
            checks_sql(properties, ids.len() + 2 + words.len(), "users.id"),
        );
        let users: Vec<UserSummary> = with_pool!(self, |pool| {
            let mut q = sqlx::query_as::<_, UserSummary>(&sql).bind(app_id);
            for id in ids {
                q = q.bind(*id);
            }
            for pattern in words.iter().map(|w| check_pattern(w)) {
                q = q.bind(pattern);
            }
            bind_conditions!(q, properties);
            q.fetch_all(pool).await
        })?;
        Ok(users.into_iter().map(|u| (u.id, u)).collect())
    }
}
