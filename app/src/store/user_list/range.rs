//! The range plan: a word whose prefix covers too many tokens to merge but
//! few enough index entries to read whole ("bench-05": a hundred thousand
//! userIDs, none near the top of the list). Its entries, from the postings
//! sorted by name or creation, give the first positions in list order by a
//! top-N sort of the range (a covering index scan, no row reads); only those
//! users are then read and checked. Exact wherever in the order the
//! matches lie.

use std::collections::HashSet;

use super::keys::{Found, PageRequest, Position};
use super::plan::SearchPlan;
use super::search::prefix_range;
use crate::model::UserSort;
use crate::store::{Store, StoreResult};

impl Store {
    /// The page by the range plan (no segment: a segment filter reads
    /// `walk::list_in_order`'s one statement instead).
    pub(crate) async fn list_by_range(&self, app_id: i64, plan: &SearchPlan, req: &PageRequest) -> StoreResult<Found> {
        // The first entries after the request's position, in list order.
        // Without DISTINCT the database keeps only the top N while it scans;
        // a user with two tokens in the range comes twice, once kept.
        let sql = match req.sort {
            UserSort::Name => {
                "SELECT sort_name, user_id FROM user_search WHERE app_id = $1 AND token >= $5 AND token < $6 \
                 AND sort_name >= $2 AND (sort_name, user_id) > ($2, $3) ORDER BY sort_name, user_id LIMIT $4"
            }
            _ => {
                "SELECT created_at, user_id FROM user_search WHERE app_id = $1 AND token >= $5 AND token < $6 \
                 AND created_at <= $2 AND (created_at, user_id) < ($2, $3) \
                 ORDER BY created_at DESC, user_id DESC LIMIT $4"
            }
        };
        let (lo, hi) = prefix_range(&plan.words[0]);
        // Room for a few duplicates and deactivated users per page.
        let read = req.limit * 2;
        let entries = self.read_positions(sql, app_id, &req.after(), read, &[lo, hi]).await?;
        let mut seen = HashSet::new();
        let positions: Vec<&Position> = entries.iter().filter(|p| seen.insert(p.1)).collect();
        let ids: Vec<i64> = positions.iter().map(|p| p.1).collect();
        let mut kept =
            self.users_among(app_id, &ids, &plan.words[1..], &plan.properties, req.include_deactivated).await?;
        let mut users = Vec::new();
        for position in &positions {
            if let Some(user) = kept.remove(&position.1) {
                users.push(user);
                if users.len() as i64 == req.limit {
                    return Ok(Found { users, stopped_at: None });
                }
            }
        }
        // Fewer than asked: either the range ended, or every entry up to
        // the last one read is decided and the next round goes on from it.
        let stopped_at = (entries.len() as i64 == read).then(|| entries.last().cloned()).flatten();
        Ok(Found { users, stopped_at })
    }
}
