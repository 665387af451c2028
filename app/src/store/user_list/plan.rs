//! The search plan: a search's words, narrowest first, and the strategy
//! that answers it, chosen from cheap, bounded index probes.

use super::keys::Budget;
use super::properties::PropertyCondition;
use super::search::{prefix_range, search_words};
use crate::model::property_filter::PropertyFilter;
use crate::model::users::UserScope;
use crate::model::{UserFilter, UserSort};
use crate::store::{with_pool, Store, StoreResult};

/// A word with at most this many index entries drives the query.
const SELECTIVE: i64 = 2000;
/// How far the index entries of several broad words are counted to tell
/// which one is narrowest (a few milliseconds each at most).
const BROAD_PROBE: i64 = 20_000;
/// A broad word whose prefix covers at most this many distinct tokens is
/// answered by merging their sorted postings.
const MERGE_TOKENS: usize = 16;

/// How a search is answered (see the module docs of `user_list`).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum SearchStrategy {
    /// No search: the list in its order.
    #[default]
    Everyone,
    /// The narrowest word's few matches, sorted.
    Driven,
    /// The distinct tokens of the first words (the narrowest first) whose
    /// prefixes cover few; the words after those are checked row by row.
    Postings(Vec<Vec<String>>),
    /// Users walked in list order, each checked on its token list, within the
    /// request's walk budget: last-activity order (which postings lack), a
    /// word covering too many tokens to merge, or a big segment.
    Scan,
    /// The filter segment's few members, sorted; each checked for the words.
    Members,
    /// The users active since the filter's time (a range of the activity
    /// index of at most `Budget::members` users), sorted (in last-activity
    /// order, the range read in order); each checked for the words and the
    /// segment.
    Recent,
    /// The users both of the first two words' prefixes hold (their index
    /// ranges intersected by user id), read and sorted; further words
    /// checked on them. For a word that merges with one that does not, whose
    /// few common users a merge would look for entry by entry.
    Intersect,
    /// Every index entry of the first word's prefix, from the postings
    /// sorted by name or creation, sorted (name and created orders); the
    /// other words checked on the users read in that order.
    Range,
    /// The few users matching the property condition at this index of the
    /// plan's conditions (at most `Budget::members`), read from its index
    /// and sorted; each checked for the rest.
    Property(usize),
}

/// How a plan learns whether the two index ranges an intersect reads fit
/// the range budget (counting them is the plan's dearest probe).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeCheck {
    /// Counted while planning (to explain a search: the plan named is the
    /// one that answers).
    Probe,
    /// Counted by the page itself ([`Store::list_by_intersect`]), which
    /// answers nothing when they do not fit.
    InPage,
    /// Counted, and one does not fit: no intersect.
    TooBroad,
}

/// A search box's words, narrowest first, and how the search is answered.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SearchPlan {
    pub words: Vec<String>,
    pub strategy: SearchStrategy,
    /// The first word covers one token, so no user has two of its entries.
    pub lead_is_one_token: bool,
    /// Only members of this segment (an id of the app's segments) match.
    pub segment: Option<i64>,
    /// Only users last seen at or after this time (epoch ms, at least 1, so
    /// never-seen users, whose activity key is 0, are not) match.
    pub active_since: Option<i64>,
    /// Only users meeting every property condition match.
    pub properties: Vec<PropertyCondition>,
    /// The narrowest condition a user must hold the property for (by its
    /// index range), which the count reads when no narrower index does.
    pub property_lead: Option<usize>,
}

impl SearchPlan {
    /// The property condition whose index range the count reads: the one
    /// that drives the page, or the narrowest when no word or segment
    /// narrows the users first.
    pub fn counted_property(&self) -> Option<usize> {
        self.property_lead.filter(|_| {
            matches!(self.strategy, SearchStrategy::Property(_)) || (self.words.is_empty() && self.segment.is_none())
        })
    }

    /// The strategy in a few words ("postings pedro,pereira & team"), for
    /// the benchmark and tests.
    pub fn describe(&self) -> String {
        match &self.strategy {
            SearchStrategy::Postings(words) => {
                let words: Vec<String> = words.iter().map(|tokens| tokens.join(",")).collect();
                format!("postings {}", words.join(" & "))
            }
            SearchStrategy::Property(i) => format!("property {}", self.properties[*i].name),
            other => format!("{other:?}").to_lowercase(),
        }
    }
}

impl Store {
    /// Plans `filter`'s search and property conditions among the users of
    /// `scope` (the members of its segment, those active since its time;
    /// everyone when neither) for a list in the filter's order: the words,
    /// narrowest first, and the strategy. Shared by the page and its
    /// count. A segment with at most `budget.members` members drives the
    /// query, and so do the users active since the scope's time when they
    /// are at most as many; a word with at most `budget.range` index
    /// entries may be read whole.
    pub(crate) async fn plan_search(
        &self,
        app_id: i64,
        filter: &UserFilter,
        scope: UserScope,
        budget: &Budget,
        ranges: RangeCheck,
    ) -> StoreResult<SearchPlan> {
        let members_drive = budget.members;
        let (sort, properties) = (filter.sort, filter.properties.as_slice());
        let mut plan = self.plan_words(app_id, &filter.search, sort, budget.range, ranges).await?;
        let mut members = None;
        if let Some(segment) = scope.segment {
            plan.segment = Some(segment);
            let n = self.segment_members(segment, members_drive + 1).await?;
            members = Some(n);
            plan.strategy = if n <= members_drive {
                SearchStrategy::Members
            } else if matches!(
                plan.strategy,
                SearchStrategy::Driven | SearchStrategy::Range | SearchStrategy::Intersect
            ) {
                plan.strategy.clone()
            } else {
                // Postings do not know segments: walk in list order instead.
                SearchStrategy::Scan
            };
        }
        let mut recent = None;
        if let Some(since) = scope.active_since {
            let since = since.max(1);
            plan.active_since = Some(since);
            let n = self.active_since(app_id, since, members_drive + 1).await?;
            recent = Some(n);
            let recent = n;
            let drives = recent <= members_drive;
            plan.strategy = match plan.strategy {
                // The narrowest word's few entries still drive.
                SearchStrategy::Driven => SearchStrategy::Driven,
                // The smaller of the segment's members and the recent users.
                SearchStrategy::Members if !drives || members.is_some_and(|n| n <= recent) => SearchStrategy::Members,
                _ if drives => SearchStrategy::Recent,
                // Many recent users: in last-activity order the window is the
                // top of the order's index, read in order down to its start.
                SearchStrategy::Everyone if sort == UserSort::LastActivity => SearchStrategy::Everyone,
                // In another order, walk it checking each user's activity.
                SearchStrategy::Everyone => SearchStrategy::Scan,
                // Postings do not know activity: walk in list order instead.
                SearchStrategy::Postings(_) => SearchStrategy::Scan,
                // The others check each candidate's activity with its row.
                other => other,
            };
        }
        if !properties.is_empty() {
            let driving = match plan.strategy {
                SearchStrategy::Members => members,
                SearchStrategy::Recent => recent,
                _ => None,
            };
            self.plan_properties(app_id, &mut plan, properties, members_drive, driving).await?;
        }
        Ok(plan)
    }

    /// Adds property conditions to a plan: the narrowest one a user must
    /// hold the property for drives the page when it has at most
    /// `members_drive` matches and fewer than the plan's driving set
    /// (`driving`: the segment's members or the recent users, counted).
    async fn plan_properties(
        &self,
        app_id: i64,
        plan: &mut SearchPlan,
        properties: &[PropertyFilter],
        members_drive: i64,
        driving: Option<i64>,
    ) -> StoreResult<()> {
        plan.properties = properties.iter().map(PropertyCondition::of).collect();
        let mut narrowest: Option<(usize, i64)> = None;
        for (i, condition) in plan.properties.iter().enumerate().filter(|(_, c)| c.op.needs_property()) {
            let n = self.property_matches(app_id, condition, members_drive + 1).await?;
            if narrowest.is_none_or(|(_, m)| n < m) {
                narrowest = Some((i, n));
            }
        }
        plan.property_lead = narrowest.map(|(i, _)| i);
        let drives = narrowest.filter(|&(_, n)| n <= members_drive && driving.is_none_or(|d| n < d));
        plan.strategy = match (&plan.strategy, drives) {
            // The narrowest word's few entries still drive.
            (SearchStrategy::Driven, _) => SearchStrategy::Driven,
            (_, Some((i, _))) => SearchStrategy::Property(i),
            // Everyone, filtered: walk in list order, checking each user (the
            // other plans check the conditions with their candidates').
            (SearchStrategy::Everyone, None) => SearchStrategy::Scan,
            (other, None) => other.clone(),
        };
        Ok(())
    }

    /// How many of the app's users were last seen at or after `since`,
    /// counting at most `up_to` (a range of the activity index alone).
    async fn active_since(&self, app_id: i64, since: i64, up_to: i64) -> StoreResult<i64> {
        let sql = "SELECT COUNT(*) FROM (SELECT 1 FROM users WHERE app_id = $1 AND COALESCE(last_seen_at, 0) >= $2
                   LIMIT $3) AS recent";
        with_pool!(self, |pool| Ok(sqlx::query_scalar(sql)
            .bind(app_id)
            .bind(since)
            .bind(up_to)
            .fetch_one(pool)
            .await?))
    }

    /// How many members `segment` has, counting at most `up_to`.
    async fn segment_members(&self, segment: i64, up_to: i64) -> StoreResult<i64> {
        let sql = "SELECT COUNT(*) FROM (SELECT 1 FROM segment_members WHERE segment_id = $1 LIMIT $2) AS members";
        with_pool!(self, |pool| Ok(sqlx::query_scalar(sql).bind(segment).bind(up_to).fetch_one(pool).await?))
    }

    /// Plans the search words alone (see [`Store::plan_search`]).
    async fn plan_words(
        &self,
        app_id: i64,
        search: &str,
        sort: UserSort,
        range: i64,
        ranges: RangeCheck,
    ) -> StoreResult<SearchPlan> {
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
                // A letter alone: its initial's postings hold exactly the
                // users with a token starting with it (see `search_tokens`).
                let tokens = if word.chars().count() == 1 {
                    vec![word.clone()]
                } else {
                    self.tokens_with_prefix(app_id, word, MERGE_TOKENS + 1).await?
                };
                match tokens {
                    tokens if tokens.len() <= MERGE_TOKENS => merged.push((word.clone(), tokens)),
                    _ if i == 0 => break,
                    _ => checked.push(word.clone()),
                }
            }
            if merged.is_empty() {
                // Too many tokens to merge, but few enough entries to read whole.
                if self.index_entries(app_id, &words[0], range + 1).await? <= range {
                    SearchStrategy::Range
                } else {
                    SearchStrategy::Scan
                }
            } else if !checked.is_empty()
                && match ranges {
                    RangeCheck::Probe => self.both_in_range(app_id, &merged[0].0, &checked[0], range).await?,
                    RangeCheck::InPage => true,
                    RangeCheck::TooBroad => false,
                }
            {
                let (lead, first_checked) = (merged[0].0.clone(), checked.remove(0));
                let rest = merged.into_iter().skip(1).map(|(word, _)| word).chain(checked);
                words = [lead, first_checked].into_iter().chain(rest).collect();
                SearchStrategy::Intersect
            } else {
                // Words that merge first (the narrowest leads), then the checked ones.
                let tokens = merged.iter().map(|(_, tokens)| tokens.clone()).collect();
                words = merged.into_iter().map(|(word, _)| word).chain(checked).collect();
                SearchStrategy::Postings(tokens)
            }
        };
        let lead_is_one_token = match &strategy {
            SearchStrategy::Postings(tokens) if words[0].chars().count() > 1 => tokens[0].len() == 1,
            _ => self.tokens_with_prefix(app_id, &words[0], 2).await?.len() == 1,
        };
        Ok(SearchPlan { words, strategy, lead_is_one_token, ..SearchPlan::default() })
    }

    /// Whether both words' prefixes hold at most `range` entries: an
    /// explained plan's check, and SQLite's beside an intersect's page. The
    /// two counts are dear, so they run side by side on two connections.
    pub(crate) async fn both_in_range(&self, app_id: i64, a: &str, b: &str, range: i64) -> StoreResult<bool> {
        let (a, b) =
            tokio::try_join!(self.index_entries(app_id, a, range + 1), self.index_entries(app_id, b, range + 1))?;
        Ok(a <= range && b <= range)
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

    /// Up to `up_to` distinct tokens starting with `word`, in one round trip:
    /// a "loose index scan" (each step one index seek past the last token).
    pub(crate) async fn tokens_with_prefix(&self, app_id: i64, word: &str, up_to: usize) -> StoreResult<Vec<String>> {
        let sql = "WITH RECURSIVE t (token, n) AS (
                       SELECT (SELECT token FROM user_search WHERE app_id = $1 AND token >= $2 AND token < $3
                               ORDER BY token LIMIT 1), CAST(1 AS BIGINT)
                       UNION ALL
                       SELECT (SELECT token FROM user_search WHERE app_id = $1 AND token > t.token AND token < $3
                               ORDER BY token LIMIT 1), t.n + 1
                       FROM t WHERE t.token IS NOT NULL AND t.n < $4)
                   SELECT token FROM t WHERE token IS NOT NULL ORDER BY token";
        let (lo, hi) = prefix_range(word);
        let tokens: Vec<String> = with_pool!(self, |pool| sqlx::query_scalar(sql)
            .bind(app_id)
            .bind(lo)
            .bind(hi)
            .bind(up_to as i64)
            .fetch_all(pool)
            .await)?;
        Ok(tokens)
    }
}
