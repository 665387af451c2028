//! Walking users in list order, a chunk at a time, checking each against
//! the search's words by index, within a budget. The strategies that start
//! with a walk (Scan, ScanThenWord) go on by sorting a word's matches when
//! the page's matches lie further down the list than the budget reaches.

use super::user_postings::Position;
use super::user_search::prefix_range;
use super::users_list::{order_fragments, start_of, word_checks, UserListQuery};
use super::{Store, StoreResult};
use crate::model::{UserSort, UserSummary};

/// Users read by a walk's first chunk; later chunks are sized from the
/// share of matches seen so far.
const FIRST_CHUNK: i64 = 128;
const MAX_CHUNK: i64 = 4096;

/// What a walk found.
pub(crate) struct Walk {
    pub page: Vec<UserSummary>,
    /// Where the walk stopped when the budget ran out before the page was
    /// full and before the list ended: the rest starts after it.
    pub stopped_at: Option<Position>,
}

impl Store {
    /// Walks at most `budget` users after `query.after` in list order and
    /// keeps those matching every search word, up to `query.limit`.
    pub(crate) async fn walk_in_order(&self, app_id: i64, query: &UserListQuery<'_>, budget: i64) -> StoreResult<Walk> {
        let words = &query.search.words;
        let (keyset, order) = order_fragments(query.sort);
        let key = match query.sort {
            UserSort::Name => "sort_name",
            UserSort::Created => "created_at",
            UserSort::LastActivity => "COALESCE(last_seen_at, 0)",
        };
        let active = if query.include_deactivated { "" } else { " AND active" };
        // One row per user walked (no sort, no materialised window), with
        // whether it matches: the walk knows exactly where it stopped.
        let sql = format!(
            "SELECT {key}, id, (TRUE{}) FROM users WHERE app_id = $1{active}{keyset}{order} LIMIT $4",
            word_checks(words.len(), 5, "users.id")
        );
        let texts: Vec<String> = words
            .iter()
            .flat_map(|word| {
                let (lo, hi) = prefix_range(word);
                [lo, hi]
            })
            .collect();
        let mut position = query.after.clone().unwrap_or_else(|| start_of(query.sort));
        let mut found: Vec<i64> = Vec::new();
        let mut walked = 0;
        let mut chunk = FIRST_CHUNK.min(budget);
        loop {
            let rows = self.read_positions(&sql, app_id, &position, chunk, &texts).await?;
            walked += rows.len() as i64;
            let list_ended = (rows.len() as i64) < chunk;
            for (row, matches) in rows {
                position = row;
                if matches {
                    found.push(position.1);
                    if found.len() as i64 == query.limit {
                        break;
                    }
                }
            }
            let full = found.len() as i64 == query.limit;
            if full || list_ended || walked >= budget {
                let mut users = self.users_among(app_id, &found, &[], true).await?;
                let page = found.iter().filter_map(|id| users.remove(id)).collect();
                return Ok(Walk { page, stopped_at: (!full && !list_ended).then_some(position) });
            }
            // Enough for the missing matches at the share seen so far, and half again.
            let missing = query.limit - found.len() as i64;
            let walked_per_match = walked / (found.len() as i64).max(1);
            chunk = (missing * walked_per_match * 3 / 2).clamp(FIRST_CHUNK, MAX_CHUNK).min(budget - walked);
        }
    }
}
