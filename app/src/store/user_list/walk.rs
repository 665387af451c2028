//! Pages read in list order from the users table: everyone, a driven
//! search (its few matches sorted), the recently active users (sorted, or
//! read in last-activity order), and the budgeted walk that checks each
//! user's token list.

use super::keys::{key_column, order_fragments, up_to_fragment, Found, PageRequest, Position, SortKey};
use super::plan::{SearchPlan, SearchStrategy};
use super::properties::{bind_conditions, checks_sql, other_checks_sql, BINDS};
use super::search::{word_binds, word_checks};
use crate::model::{UserSort, UserSummary};
use crate::store::batch::BindList;
use crate::store::users::summary_columns;
use crate::store::{with_pool, Store, StoreResult};

impl Store {
    /// The page by a walk in list order (from the matches of a driven
    /// search's first word). A search walk checks at most the request's
    /// walk budget of users: when they hold fewer matches than the page
    /// wants, the page is those, complete up to the last user walked. An
    /// intersect plan's page on PostgreSQL reads the users `intersected`
    /// (their ids, each once).
    pub(crate) async fn list_in_order(
        &self,
        app_id: i64,
        plan: &SearchPlan,
        req: &PageRequest,
        intersected: Option<Vec<i64>>,
    ) -> StoreResult<Found> {
        let walked = plan.strategy == SearchStrategy::Scan;
        let mut end = if walked { self.walk_end(app_id, req, req.budget.walk).await? } else { None };
        // In last-activity order the activity window bounds the walk: when
        // its start comes before the walk's end, the walk reads to the start.
        if let (UserSort::LastActivity, Some(since)) = (req.sort, plan.active_since) {
            end = end.filter(|(key, _)| !matches!(key, SortKey::Int(k) if *k < since));
        }
        let sql = list_sql(req, plan, end.is_some(), self.is_postgres());
        let (key, after_id) = req.after();
        let users: Vec<UserSummary> = with_pool!(self, |pool| {
            let mut q = sqlx::query_as::<_, UserSummary>(&sql).bind(app_id);
            q = match &key {
                SortKey::Int(k) => q.bind(*k),
                SortKey::Text(k) => q.bind(k.clone()),
            };
            q = q.bind(after_id);
            for value in word_binds(&plan.words, ranges_read(plan, self.is_postgres())) {
                q = q.bind(value);
            }
            q = q.bind(req.limit);
            if let Some(segment) = plan.segment {
                q = q.bind(segment);
            }
            if let Some(since) = plan.active_since {
                q = q.bind(since);
            }
            if let Some((end_key, end_id)) = &end {
                q = match end_key {
                    SortKey::Int(k) => q.bind(*k),
                    SortKey::Text(k) => q.bind(k.clone()),
                };
                q = q.bind(*end_id);
            }
            bind_conditions!(q, plan.properties);
            match intersected {
                Some(ids) => q = q.bind_ids(&ids),
                None if plan.strategy == SearchStrategy::Intersect => q = q.bind(req.budget.range + 1),
                None => {}
            }
            q.fetch_all(pool).await
        })?;
        let stopped_at = end.filter(|_| (users.len() as i64) < req.limit);
        Ok(Found { users, stopped_at })
    }

    /// The position of the `n`-th user after the request's position (in
    /// its order and active filter), or `None` when fewer are left. Reads
    /// only the order's index.
    async fn walk_end(&self, app_id: i64, req: &PageRequest, n: i64) -> StoreResult<Option<Position>> {
        let active = if req.include_deactivated { "" } else { " AND active" };
        let (keyset, order) = order_fragments(req.sort);
        let key = key_column(req.sort);
        let sql = format!("SELECT {key}, id FROM users WHERE app_id = $1{active}{keyset}{order} LIMIT 1 OFFSET $4");
        Ok(self.read_positions(&sql, app_id, &req.after(), n.max(1) - 1, &[]).await?.pop())
    }
}

/// The words a plan's statement reads as index ranges (the driving ones),
/// ahead of those it checks on each candidate's token list. PostgreSQL's
/// intersect reads none: the users come from an earlier statement
/// (`intersect.rs`), so every word is checked on the rows read, which a
/// rename in between may have changed.
fn ranges_read(plan: &SearchPlan, postgres: bool) -> usize {
    let ranges = match plan.strategy {
        SearchStrategy::Driven | SearchStrategy::Range => 1,
        SearchStrategy::Intersect if postgres => 0,
        SearchStrategy::Intersect => 2,
        _ => 0,
    };
    ranges.min(plan.words.len())
}

/// Builds the list query from fixed fragments; every value is a bound
/// parameter: $1 app, $2/$3 keyset, then the search words ([`word_binds`]:
/// a [lo, hi) pair per word read as a range, a pattern per word checked),
/// then the limit, then the segment (when the plan has one), then the
/// activity window's start (when it has one), then (`up_to`) the walk's
/// last position, then the property conditions' values, then (an
/// intersect) the ids of the users both ranges hold (PostgreSQL) or the
/// bound on the entries read of each range (SQLite). A driven search starts from the first word's matches, a
/// members plan from the segment's members, a property plan from the
/// property's matches, a recent plan from the
/// activity index's range of the window; a walk picks the ids first (from
/// the order's index, each user's token list and the member index), then
/// reads the rows of those it keeps. Every plan checks the window on the rows it
/// reads (in last-activity order, a bound of the order's index).
fn list_sql(req: &PageRequest, plan: &SearchPlan, up_to: bool, postgres: bool) -> String {
    let words = plan.words.len();
    let (keyset, order) = order_fragments(req.sort);
    let active = if req.include_deactivated { "" } else { " AND active" };
    let ranges = ranges_read(plan, postgres);
    let limit_at = 4 + words + ranges;
    let limit = format!(" LIMIT ${limit_at}");
    let segment_at = limit_at + 1;
    let since_at = segment_at + usize::from(plan.segment.is_some());
    let recent = match plan.active_since {
        Some(_) => format!(" AND COALESCE(last_seen_at, 0) >= ${since_at}"),
        None => String::new(),
    };
    let up_to_at = since_at + usize::from(plan.active_since.is_some());
    let properties_at = up_to_at + 2 * usize::from(up_to);
    let up_to = if up_to { up_to_fragment(req.sort, up_to_at) } else { String::new() };
    let properties = |user_id: &str| checks_sql(&plan.properties, properties_at, user_id);
    // The intersect's users (PostgreSQL) or bound on each range it reads, last.
    let range_at = properties_at + BINDS * plan.properties.len();
    // The segment's and the properties' conditions.
    let segment = |user_id: &str| {
        match plan.segment {
        Some(_) => format!(
            " AND EXISTS (SELECT 1 FROM segment_members sm WHERE sm.segment_id = ${segment_at} AND sm.user_id = {user_id})"
        ),
        None => String::new(),
    }
    };
    let member = |user_id: &str| segment(user_id) + &properties(user_id);
    match plan.strategy {
        SearchStrategy::Driven => format!(
            concat!(
                "SELECT ",
                summary_columns!(),
                " FROM (SELECT DISTINCT user_id FROM user_search WHERE app_id = $1 AND token >= $4 AND token < $5) \
                 AS m CROSS JOIN users WHERE users.id = m.user_id AND users.app_id = $1{}{}{}{}{}{}{}{}"
            ),
            active,
            recent,
            keyset,
            up_to,
            word_checks(words - ranges, 4 + 2 * ranges, "users.search_tokens"),
            member("users.id"),
            order,
            limit
        ),
        SearchStrategy::Intersect => format!(
            concat!(
                "SELECT ",
                summary_columns!(),
                " FROM ({}) AS m CROSS JOIN users WHERE users.id = m.user_id AND users.app_id = $1{}{}{}{}{}{}{}"
            ),
            // On PostgreSQL the users both ranges held, intersected by the
            // store (`intersect.rs`); SQLite's INTERSECT merges the two
            // ranges, each read up to the budget + 1 (whether they fit is
            // counted beside this page, which is discarded when they do not).
            if postgres {
                format!("SELECT unnest(${range_at}::int8[]) AS user_id")
            } else {
                format!(
                    "SELECT user_id FROM (SELECT user_id FROM user_search \
                     WHERE app_id = $1 AND token >= $4 AND token < $5 LIMIT ${range_at}) \
                     INTERSECT SELECT user_id FROM (SELECT user_id FROM user_search \
                     WHERE app_id = $1 AND token >= $6 AND token < $7 LIMIT ${range_at})"
                )
            },
            active,
            recent,
            keyset,
            word_checks(words - ranges, 4 + 2 * ranges, "users.search_tokens"),
            member("users.id"),
            order,
            limit
        ),
        SearchStrategy::Range => {
            // The keyset on the postings' own copy of the sort key.
            let (column, keyset, direction) = match req.sort {
                UserSort::Name => ("sort_name", " AND s.sort_name >= $2 AND (s.sort_name, s.user_id) > ($2, $3)", ""),
                _ => ("created_at", " AND s.created_at <= $2 AND (s.created_at, s.user_id) < ($2, $3)", " DESC"),
            };
            format!(
                concat!(
                    "SELECT ",
                    summary_columns!(),
                    " FROM (SELECT DISTINCT s.{column} AS k, s.user_id FROM user_search s WHERE s.app_id = $1 \
                     AND s.token >= $4 AND s.token < $5{keyset}) AS m CROSS JOIN users \
                     WHERE users.id = m.user_id AND users.app_id = $1{active}{recent}{checks}{member} \
                     ORDER BY m.k{direction}, m.user_id{direction}{limit}"
                ),
                column = column,
                keyset = keyset,
                active = active,
                recent = recent,
                checks = word_checks(words - ranges, 4 + 2 * ranges, "users.search_tokens"),
                member = member("users.id"),
                direction = direction,
                limit = limit,
            )
        }
        SearchStrategy::Members => format!(
            concat!(
                "SELECT ",
                summary_columns!(),
                " FROM segment_members m CROSS JOIN users WHERE m.segment_id = ${} AND users.id = m.user_id \
                 AND users.app_id = $1{}{}{}{}{}{}{}"
            ),
            segment_at,
            active,
            recent,
            keyset,
            word_checks(words, 4, "users.search_tokens"),
            properties("users.id"),
            order,
            limit
        ),
        SearchStrategy::Property(lead) => format!(
            concat!(
                "SELECT ",
                summary_columns!(),
                " FROM ({}) AS m CROSS JOIN users WHERE users.id = m.user_id AND users.app_id = $1{}{}{}{}{}{}{}"
            ),
            plan.properties[lead].matches_sql(properties_at + super::properties::BINDS * lead),
            active,
            recent,
            keyset,
            word_checks(words, 4, "users.search_tokens"),
            segment("users.id") + &other_checks_sql(&plan.properties, lead, properties_at, "users.id"),
            order,
            limit
        ),
        // In last-activity order the window's range of the activity index,
        // read in order; in another, its users (few enough) sorted. The
        // DISTINCT keeps the range first (neither database flattens it).
        SearchStrategy::Recent if req.sort == UserSort::LastActivity => format!(
            concat!("SELECT ", summary_columns!(), " FROM users WHERE app_id = $1{}{}{}{}{}{}{}"),
            recent,
            active,
            keyset,
            word_checks(words, 4, "users.search_tokens"),
            member("users.id"),
            order,
            limit
        ),
        SearchStrategy::Recent => format!(
            concat!(
                "SELECT ",
                summary_columns!(),
                " FROM (SELECT DISTINCT id AS user_id FROM users WHERE app_id = $1{}{}) AS m CROSS JOIN users \
                 WHERE users.id = m.user_id AND users.app_id = $1{}{}{}{}{}"
            ),
            recent,
            active,
            keyset,
            word_checks(words, 4, "users.search_tokens"),
            member("users.id"),
            order,
            limit
        ),
        _ if words == 0 && plan.segment.is_none() && plan.properties.is_empty() => format!(
            concat!("SELECT ", summary_columns!(), " FROM users WHERE app_id = $1{}{}{}{}{}{}"),
            active, recent, keyset, up_to, order, limit
        ),
        _ => format!(
            concat!(
                "SELECT ",
                summary_columns!(),
                " FROM users WHERE id IN (SELECT id FROM users WHERE app_id = $1{}{}{}{}{}{}{}{}){}"
            ),
            active,
            recent,
            keyset,
            up_to,
            word_checks(words, 4, "users.search_tokens"),
            member("users.id"),
            order,
            limit,
            order
        ),
    }
}
