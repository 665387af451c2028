//! Pages read in list order from the users table: everyone, a driven
//! search (its few matches sorted), and the budgeted walk that checks each
//! user by index.

use super::keys::{key_column, order_fragments, up_to_fragment, Found, PageRequest, Position, SortKey};
use super::plan::{SearchPlan, SearchStrategy};
use super::search::{prefix_range, word_checks};
use crate::model::UserSummary;
use crate::store::users::summary_columns;
use crate::store::{with_pool, Store, StoreResult};

impl Store {
    /// The page by a walk in list order (from the matches of a driven
    /// search's first word). A search walk checks at most the request's
    /// walk budget of users: when they hold fewer matches than the page
    /// wants, the page is those, complete up to the last user walked.
    pub(crate) async fn list_in_order(&self, app_id: i64, plan: &SearchPlan, req: &PageRequest) -> StoreResult<Found> {
        let driven = plan.strategy == SearchStrategy::Driven;
        let walked = plan.strategy == SearchStrategy::Scan;
        let end = if walked { self.walk_end(app_id, req, req.budget.walk).await? } else { None };
        let sql = list_sql(req, plan.words.len(), driven, end.is_some());
        let (key, after_id) = req.after();
        let users: Vec<UserSummary> = with_pool!(self, |pool| {
            let mut q = sqlx::query_as::<_, UserSummary>(&sql).bind(app_id);
            q = match &key {
                SortKey::Int(k) => q.bind(*k),
                SortKey::Text(k) => q.bind(k.clone()),
            };
            q = q.bind(after_id);
            for (lo, hi) in plan.words.iter().map(|w| prefix_range(w)) {
                q = q.bind(lo).bind(hi);
            }
            q = q.bind(req.limit);
            if let Some((end_key, end_id)) = &end {
                q = match end_key {
                    SortKey::Int(k) => q.bind(*k),
                    SortKey::Text(k) => q.bind(k.clone()),
                };
                q = q.bind(*end_id);
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

/// Builds the list query from fixed fragments; every value is a bound
/// parameter: $1 app, $2/$3 keyset, then a [lo, hi) pair per search word,
/// then the limit, then (`up_to`) the walk's last position. `driven`: start
/// from the first word's matches instead of walking users in list order.
/// A walk picks the ids first (from the order's index and the search
/// index alone), then reads the rows of those it keeps.
fn list_sql(req: &PageRequest, words: usize, driven: bool, up_to: bool) -> String {
    let (keyset, order) = order_fragments(req.sort);
    let active = if req.include_deactivated { "" } else { " AND active" };
    let up_to = if up_to { up_to_fragment(req.sort, 5 + 2 * words) } else { String::new() };
    let limit = format!(" LIMIT ${}", 4 + 2 * words);
    if driven {
        return format!(
            concat!(
                "SELECT ",
                summary_columns!(),
                " FROM (SELECT DISTINCT user_id FROM user_search WHERE app_id = $1 AND token >= $4 AND token < $5) \
                 AS m CROSS JOIN users WHERE users.id = m.user_id AND users.app_id = $1{}{}{}{}{}{}"
            ),
            active,
            keyset,
            up_to,
            word_checks(words.saturating_sub(1), 6, "users.id"),
            order,
            limit
        );
    }
    if words == 0 {
        return format!(
            concat!("SELECT ", summary_columns!(), " FROM users WHERE app_id = $1{}{}{}{}{}"),
            active, keyset, up_to, order, limit
        );
    }
    format!(
        concat!(
            "SELECT ",
            summary_columns!(),
            " FROM users WHERE id IN (SELECT id FROM users WHERE app_id = $1{}{}{}{}{}{}){}"
        ),
        active,
        keyset,
        up_to,
        word_checks(words, 4, "users.id"),
        order,
        limit,
        order
    )
}
