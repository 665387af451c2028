//! The users list: one keyset page in a sort order with its bounded total,
//! and the search that answers it at scale, within a budget.
//!
//! A search is planned once per request (`plan.rs`) from cheap, bounded
//! index probes; the strategies, cheapest first:
//! - **Driven**: the narrowest word has few matches (≤ 2,000 index
//!   entries), so its matches are fetched and sorted (`walk.rs`).
//! - **Postings**: name or created order, every word's prefix covering few
//!   distinct tokens (a single letter: its initial, one token): their index
//!   ranges are already in list order, so they are merged a batch at a time,
//!   and several words are intersected by leapfrogging (`postings.rs`).
//! - **Intersect**: a word that merges beside one that does not, both
//!   readable whole: the users both ranges hold, sorted (`intersect.rs`).
//!   Whether both are readable whole is learned with the page, not before
//!   it (counting them costs about as much as intersecting them), and a
//!   page whose ranges are too broad is planned again without it.
//! - **Range**: a word of too many tokens to merge but few enough entries
//!   to read whole: the first entries of its range in list order, then only
//!   those users (`range.rs`).
//! - **Scan**: last-activity order (postings do not carry it), or a word
//!   too broad to read whole: users are walked in list order, each checked
//!   on its token list (`walk.rs`).
//!
//! A segment filter (`/users?segment=`) plans the same way, with the segment
//! as one more condition: a segment with few members (`Budget::members`)
//! drives the page (**Members**: its members, sorted, each checked for the
//! words); a big one is checked by its index on the plan's candidates, or on
//! each user of a walk in list order.
//!
//! An activity filter (`/users?active=`, users last seen since a time) is
//! one more condition too: when few users were active since then
//! (`Budget::members`), their range of the activity index drives the page
//! (**Recent**: those users, each checked for the words and the segment,
//! sorted; in last-activity order the range is read in order). Otherwise a
//! narrower driver (a driven word, a smaller segment) keeps driving, and
//! every other plan checks each candidate's last activity with its row; in
//! last-activity order the window is a bound of the order's index.
//!
//! Property filters (`/users?prop.plan=pro`, see `properties.rs`) are
//! conditions too: each is checked on a candidate by its primary key, and
//! the narrowest one a user must hold the property for, when it has few
//! matches (`Budget::members`) and fewer than the segment or the recent
//! users, drives the page (**Property**: its matches from the property's
//! index, sorted) and its count. The postings and range plans check them
//! with a match's other words; a list of everyone walks in list order.
//!
//! Every plan is exact: a page holds the first matches in list order. No
//! round is unbounded: the walk checks at most a budget of users, the merge
//! reads at most a budget of entries, and the count examines at most a
//! budget of entries ([`Budget`]). A round whose budget ran out before the
//! page filled stops at a known position: it holds every match up to there,
//! in order, and the next round goes on from there (the service runs a few
//! rounds per answer, the browser asks for more); the count then says it is
//! a lower bound.
//!
//! Files: `search.rs` (folding, tokens, words) ← `keys.rs` (positions,
//! orders) ← `properties.rs` ← `plan.rs`, `walk.rs`, `postings.rs`, `range.rs`,
//! `count.rs` ← `intersect.rs` ← this one;
//! `index.rs` writes the search rows. No file imports one that imports it.

mod count;
pub(crate) mod index;
mod intersect;
mod keys;
mod plan;
mod postings;
mod properties;
mod range;
pub(crate) mod search;
mod walk;

#[cfg(test)]
mod tests;

pub use keys::{sort_key_of, Budget, Position, SortKey};

use keys::{Found, PageRequest};
use plan::{RangeCheck, SearchStrategy};

use crate::model::users::UserScope;
use crate::model::{UserFilter, UserSummary, UsersPage};
use crate::store::{Store, StoreResult};

/// One page of the users list, as the store answers it.
#[derive(Debug, Clone)]
pub struct ListPage {
    /// Up to the limit asked for, in list order.
    pub users: Vec<UserSummary>,
    /// How many users match, counted up to [`UsersPage::COUNT_LIMIT`]
    /// ([`UsersPage::SEARCH_COUNT_LIMIT`] for a search).
    pub total: i64,
    /// `total` is a lower bound: more may match.
    pub total_is_lower_bound: bool,
    /// `Some(p)` when the page is partial: the search's budget ran out
    /// before the page filled, `users` are every match up to position `p`
    /// (inclusive), and the next page starts after `p`.
    pub stopped_at: Option<Position>,
}

impl Store {
    /// One page of the users list for `filter`'s search, order and
    /// deactivated toggle among the users of `scope` (the service resolves
    /// the filter's segment and activity window into it; the store reads
    /// only the scope), after the keyset position `after` (the previous
    /// page's last row), up to `limit` users, with its total; within the
    /// default [`Budget`].
    pub async fn users_page(
        &self,
        app_id: i64,
        filter: &UserFilter,
        scope: UserScope,
        after: Option<Position>,
        limit: i64,
    ) -> StoreResult<ListPage> {
        self.users_page_within(app_id, filter, scope, after, limit, Budget::default()).await
    }

    /// [`Store::users_page`] within `budget` (tests use small ones).
    pub async fn users_page_within(
        &self,
        app_id: i64,
        filter: &UserFilter,
        scope: UserScope,
        after: Option<Position>,
        limit: i64,
        budget: Budget,
    ) -> StoreResult<ListPage> {
        let plan = self.plan_search(app_id, filter, scope, &budget, RangeCheck::InPage).await?;
        let req =
            PageRequest { sort: filter.sort, include_deactivated: filter.include_deactivated, after, limit, budget };
        // Everyone, or the users active since a time, are counted from one
        // index alone; a search or a segment is counted match by match.
        let bound = if plan.words.is_empty() && plan.segment.is_none() && plan.properties.is_empty() {
            UsersPage::COUNT_LIMIT
        } else {
            UsersPage::SEARCH_COUNT_LIMIT
        };
        // The page and its count read on two connections at once.
        let page = self.page_by_plan(app_id, &plan, &req);
        // A property's index range is counted as far as it may drive a page.
        let count_budget =
            if plan.counted_property().is_some() { budget.count.max(budget.members) } else { budget.count };
        let count = self.count_users(app_id, &plan, filter.include_deactivated, bound, count_budget);
        let (found, count) = tokio::try_join!(page, count)?;
        // The count holds without the intersect too: both plans lead with
        // the same word and check the others on each user's token list.
        let Found { users, stopped_at } = match found {
            Some(found) => found,
            None => self.page_too_broad(app_id, filter, scope, &req).await?,
        };
        Ok(ListPage { users, total: count.n, total_is_lower_bound: count.at_least, stopped_at })
    }

    /// More rows of a page that stopped at `after` (its budget ran out
    /// before it filled), without counting again: the matches after
    /// `after` (from the start of the list when `None`), up to `limit`,
    /// and where this round stopped, if it did.
    pub async fn more_users_within(
        &self,
        app_id: i64,
        filter: &UserFilter,
        scope: UserScope,
        after: Option<Position>,
        limit: i64,
        budget: Budget,
    ) -> StoreResult<(Vec<UserSummary>, Option<Position>)> {
        let plan = self.plan_search(app_id, filter, scope, &budget, RangeCheck::InPage).await?;
        let req =
            PageRequest { sort: filter.sort, include_deactivated: filter.include_deactivated, after, limit, budget };
        let Found { users, stopped_at } = match self.page_by_plan(app_id, &plan, &req).await? {
            Some(found) => found,
            None => self.page_too_broad(app_id, filter, scope, &req).await?,
        };
        Ok((users, stopped_at))
    }

    /// The page planned without the intersect its plan chose (one of the
    /// ranges it reads holds more entries than the budget).
    async fn page_too_broad(
        &self,
        app_id: i64,
        filter: &UserFilter,
        scope: UserScope,
        req: &PageRequest,
    ) -> StoreResult<Found> {
        let plan = self.plan_search(app_id, filter, scope, &req.budget, RangeCheck::TooBroad).await?;
        self.page_in_plan_order(app_id, &plan, req).await
    }

    /// The page by `plan`, or `None` when it is an intersect whose ranges
    /// turn out too broad to read whole.
    async fn page_by_plan(
        &self,
        app_id: i64,
        plan: &plan::SearchPlan,
        req: &PageRequest,
    ) -> StoreResult<Option<Found>> {
        match plan.strategy {
            SearchStrategy::Intersect => self.list_by_intersect(app_id, plan, req).await,
            _ => Ok(Some(self.page_in_plan_order(app_id, plan, req).await?)),
        }
    }

    /// The page by any plan but an intersect.
    async fn page_in_plan_order(&self, app_id: i64, plan: &plan::SearchPlan, req: &PageRequest) -> StoreResult<Found> {
        debug_assert!(plan.strategy != SearchStrategy::Intersect, "an intersect's page checks its ranges");
        match &plan.strategy {
            SearchStrategy::Postings(tokens) => {
                self.list_by_postings(app_id, tokens, &plan.words[tokens.len()..], &plan.properties, req).await
            }
            SearchStrategy::Range if plan.segment.is_none() && plan.active_since.is_none() => {
                self.list_by_range(app_id, plan, req).await
            }
            _ => self.list_in_order(app_id, plan, req, None).await,
        }
    }

    /// How a search is answered within `budget`, in a few words
    /// ("postings ana", "scan"), for the benchmark and tests: among the
    /// members of `segment`, and of the users active within the filter's
    /// activity window now.
    pub async fn explain_search(
        &self,
        app_id: i64,
        filter: &UserFilter,
        segment: Option<i64>,
        budget: Budget,
    ) -> StoreResult<String> {
        let now = crate::time::now_ms();
        let active_since = filter.active.map(|window| window.since(now, crate::store::SEEN_PRECISION_MS));
        self.explain_list(app_id, filter, UserScope { segment, active_since }, budget).await
    }

    /// How a search is answered among the users of `scope` within
    /// `budget` (see [`Store::explain_search`]).
    pub async fn explain_list(
        &self,
        app_id: i64,
        filter: &UserFilter,
        scope: UserScope,
        budget: Budget,
    ) -> StoreResult<String> {
        Ok(self.plan_search(app_id, filter, scope, &budget, RangeCheck::Probe).await?.describe())
    }
}
