//! The list's total: counted up to a bound, over at most a budget of index
//! entries, and said to be a lower bound whenever it may be one.

use super::plan::{SearchPlan, SearchStrategy};
use super::properties::{bind_conditions, checks_sql, other_checks_sql, BINDS};
use super::search::{tokens_of, word_binds, word_checks};
use crate::store::{with_pool, Store, StoreResult};

/// How many users match, as far as they were counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Count {
    pub n: i64,
    /// More may match than `n` (the bound was reached, or not every index
    /// entry was examined).
    pub at_least: bool,
}

impl Store {
    /// How many users match the plan's search (and active filter),
    /// counting at most `up_to` and examining at most `budget` index
    /// entries (so a count stays cheap at a million users).
    pub(crate) async fn count_users(
        &self,
        app_id: i64,
        plan: &SearchPlan,
        include_deactivated: bool,
        up_to: i64,
        budget: i64,
    ) -> StoreResult<Count> {
        let words = &plan.words;
        let unfiltered = words.is_empty() && plan.segment.is_none() && plan.properties.is_empty();
        // Everyone is counted from one index alone: cheap well past the bound.
        let budget = if unfiltered { budget.max(2 * up_to) } else { budget };
        let by_property = plan.counted_property();
        let by_members = plan
            .segment
            .filter(|_| by_property.is_none() && (words.is_empty() || plan.strategy == SearchStrategy::Members));
        let sql = match (by_property, by_members) {
            (Some(lead), _) => property_count_sql(plan, lead, include_deactivated),
            (None, Some(_)) => members_count_sql(plan, include_deactivated),
            (None, None) => count_sql(plan, include_deactivated),
        };
        let (n, examined): (i64, i64) = with_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql).bind(app_id);
            if let Some(segment) = by_members {
                q = q.bind(segment);
            }
            // Only the plain count reads its first word's index range.
            let ranges = usize::from(by_property.is_none() && by_members.is_none() && !words.is_empty());
            for value in word_binds(words, ranges) {
                q = q.bind(value);
            }
            q = q.bind(up_to + 1).bind(budget).bind(budget + 1);
            if let Some(segment) = plan.segment.filter(|_| by_members.is_none()) {
                q = q.bind(segment);
            }
            if let Some(since) = plan.active_since {
                q = q.bind(since);
            }
            bind_conditions!(q, plan.properties);
            q.fetch_one(pool).await
        })?;
        Ok(if n > up_to { Count { n: up_to, at_least: true } } else { Count { n, at_least: examined > budget } })
    }
}

/// The bounded count and how many entries there were to examine (up to
/// the budget + 1): $1 app, the first word's [lo, hi) pair and a pattern
/// per other word ([`word_binds`]), then the bound, the
/// budget and the budget + 1. A search counts the narrowest word's index
/// entries, each user once (at its first matching token, when `dedupe`),
/// checking the other words on the user's token list (a look-up of the
/// user by key) within the bounded sub-selects, so that both databases
/// stop at the bound. With `segment`, a match is also a member of the segment
/// bound next; with `since`, a user last seen at or after the time bound
/// last (without words, a range of the activity index); then the property
/// conditions' values.
fn count_sql(plan: &SearchPlan, include_deactivated: bool) -> String {
    let (words, dedupe, segment, since) =
        (plan.words.len(), !plan.lead_is_one_token, plan.segment.is_some(), plan.active_since.is_some());
    let active = if include_deactivated { "" } else { " AND active" };
    let slots = words + usize::from(words > 0);
    let (bound, budget, seen) = (2 + slots, 3 + slots, 4 + slots);
    let recent = recent_check(since, seen + 1 + usize::from(segment));
    let properties_at = seen + 1 + usize::from(segment) + usize::from(since);
    if words == 0 {
        let properties = checks_sql(&plan.properties, properties_at, "u.id");
        return format!(
            "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM (SELECT id, active FROM users WHERE app_id = $1{recent} \
             LIMIT ${budget}) AS u WHERE TRUE{active}{properties} LIMIT ${bound}) AS matching), \
             (SELECT COUNT(*) FROM (SELECT 1 FROM users WHERE app_id = $1{recent} LIMIT ${seen}) AS examined)"
        );
    }
    // The user's first token starting with the word is the first one its
    // list holds (both in byte order).
    let first_only = if dedupe {
        format!(
            " AND instr({tokens}, ' ' || m.token || ' ') = instr({tokens}, ' ' || $2)",
            tokens = tokens_of("m.user_id")
        )
    } else {
        String::new()
    };
    let user = if include_deactivated && !since {
        String::new()
    } else {
        format!(" AND EXISTS (SELECT 1 FROM users WHERE users.id = m.user_id{active}{recent})")
    };
    let member = member_check(segment, seen + 1);
    let properties = checks_sql(&plan.properties, properties_at, "m.user_id");
    format!(
        "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM (SELECT user_id, token FROM user_search \
         WHERE app_id = $1 AND token >= $2 AND token < $3 LIMIT ${budget}) AS m WHERE TRUE{first_only}{}{member}{properties}{user} \
         LIMIT ${bound}) AS matching), \
         (SELECT COUNT(*) FROM (SELECT 1 FROM user_search WHERE app_id = $1 AND token >= $2 AND token < $3 \
         LIMIT ${seen}) AS examined)",
        word_checks(words - 1, 4, &tokens_of("m.user_id")),
    )
}

/// The bounded count of the users matching the property condition `lead`
/// (from its index range), each checked for the rest: the values bound as
/// in [`count_sql`], with a pattern for every word (none is read as a range).
fn property_count_sql(plan: &SearchPlan, lead: usize, include_deactivated: bool) -> String {
    let words = plan.words.len();
    let (segment, since) = (plan.segment.is_some(), plan.active_since.is_some());
    let active = if include_deactivated { "" } else { " AND active" };
    let (bound, budget, seen) = (2 + words, 3 + words, 4 + words);
    let recent = recent_check(since, seen + 1 + usize::from(segment));
    let properties_at = seen + 1 + usize::from(segment) + usize::from(since);
    let matches = plan.properties[lead].matches_sql(properties_at + BINDS * lead);
    let member = member_check(segment, seen + 1);
    format!(
        "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM (SELECT user_id FROM ({matches}) AS d LIMIT ${budget}) AS m \
         WHERE EXISTS (SELECT 1 FROM users WHERE users.id = m.user_id{active}{recent}){}{member}{} LIMIT ${bound}) AS matching), \
         (SELECT COUNT(*) FROM (SELECT 1 FROM ({matches}) AS e LIMIT ${seen}) AS examined)",
        word_checks(words, 2, &tokens_of("m.user_id")),
        other_checks_sql(&plan.properties, lead, properties_at, "m.user_id"),
    )
}

/// The bounded count of a segment's members (that are the app's users,
/// active unless `include_deactivated`, with every word), examining at most
/// a budget of members: $1 app, $2 segment, a pattern per word, then
/// the bound, the budget and the budget + 1, then (with `since`) the
/// activity window's start, then the property conditions' values.
fn members_count_sql(plan: &SearchPlan, include_deactivated: bool) -> String {
    let (words, since) = (plan.words.len(), plan.active_since.is_some());
    let active = if include_deactivated { "" } else { " AND active" };
    let (bound, budget, seen) = (3 + words, 4 + words, 5 + words);
    let recent = recent_check(since, seen + 1);
    let properties = checks_sql(&plan.properties, seen + 1 + usize::from(since), "m.user_id");
    format!(
        "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM (SELECT user_id FROM segment_members WHERE segment_id = $2 \
         LIMIT ${budget}) AS m WHERE EXISTS (SELECT 1 FROM users WHERE users.id = m.user_id AND users.app_id = $1{active}{recent}){}{properties} \
         LIMIT ${bound}) AS matching), \
         (SELECT COUNT(*) FROM (SELECT 1 FROM segment_members WHERE segment_id = $2 LIMIT ${seen}) AS examined)",
        word_checks(words, 3, &tokens_of("m.user_id")),
    )
}

/// The segment's condition on a match `m`, its id bound at `at`.
fn member_check(segment: bool, at: usize) -> String {
    if segment {
        format!(" AND EXISTS (SELECT 1 FROM segment_members sm WHERE sm.segment_id = ${at} AND sm.user_id = m.user_id)")
    } else {
        String::new()
    }
}

/// The activity window's condition on a users row, its start bound at `at`.
fn recent_check(since: bool, at: usize) -> String {
    if since {
        format!(" AND COALESCE(last_seen_at, 0) >= ${at}")
    } else {
        String::new()
    }
}
