//! The intersect plan's page: the users both of the first two words'
//! index ranges hold, read and sorted, when both ranges fit the range
//! budget. Whether they fit is learned with the page, not before it
//! (counting them costs about as much as intersecting them).

use std::collections::HashSet;

use sqlx::PgPool;

use super::keys::{Found, PageRequest};
use super::plan::SearchPlan;
use super::search::prefix_range;
use crate::store::{Backend, Store, StoreResult};

impl Store {
    /// The page of an intersect plan, or `None` when one of its two ranges
    /// holds more entries than `req.budget.range` (the page is then planned
    /// without the intersect). PostgreSQL reads both ranges' user ids as two
    /// arrays in one statement, so their lengths are the counts and each
    /// range is read once; the ids are intersected here and only those
    /// users read. SQLite merges the two ranges in its own INTERSECT, each
    /// read up to the budget, while the ranges are counted on two other
    /// connections at once (in-process reads, so fetching every id would
    /// cost more than reading the ranges again). Those are other snapshots:
    /// entries written in between can make a range that fit when counted
    /// longer than the page read, which then misses a match written just
    /// before (as a page read a moment earlier would).
    pub(crate) async fn list_by_intersect(
        &self,
        app_id: i64,
        plan: &SearchPlan,
        req: &PageRequest,
    ) -> StoreResult<Option<Found>> {
        let (a, b, range) = (&plan.words[0], &plan.words[1], req.budget.range);
        let Backend::Postgres(pool) = &self.backend else {
            let (found, fits) =
                tokio::try_join!(self.list_in_order(app_id, plan, req, None), self.both_in_range(app_id, a, b, range))?;
            return Ok(fits.then_some(found));
        };
        let Some(both) = users_in_both_ranges(pool, app_id, a, b, range).await? else {
            return Ok(None);
        };
        Ok(Some(self.list_in_order(app_id, plan, req, Some(both)).await?))
    }
}

/// The ids of the users holding a token starting with `a` and one starting
/// with `b`, or `None` when either prefix has more than `range` index
/// entries. `b` is read first (the word that covers too many tokens to
/// merge, the likelier to be too broad): when it is, `a` is not read, and
/// no array of a range that does not fit is sent.
async fn users_in_both_ranges(
    pool: &PgPool,
    app_id: i64,
    a: &str,
    b: &str,
    range: i64,
) -> StoreResult<Option<Vec<i64>>> {
    // MATERIALIZED: each array is built once, not once per reference.
    let sql = "WITH b AS MATERIALIZED (SELECT ARRAY(SELECT user_id FROM user_search
                                      WHERE app_id = $1 AND token >= $4 AND token < $5 LIMIT $6) AS ids),
                    a AS MATERIALIZED (SELECT CASE WHEN cardinality(b.ids) < $6 THEN ARRAY(SELECT user_id FROM user_search
                                      WHERE app_id = $1 AND token >= $2 AND token < $3 LIMIT $6) END AS ids
                          FROM b)
               SELECT CASE WHEN cardinality(a.ids) < $6 THEN a.ids END,
                      CASE WHEN cardinality(a.ids) < $6 THEN b.ids END
               FROM a, b";
    let ((a_lo, a_hi), (b_lo, b_hi)) = (prefix_range(a), prefix_range(b));
    let both_fit: (Option<Vec<i64>>, Option<Vec<i64>>) = sqlx::query_as(sql)
        .bind(app_id)
        .bind(a_lo)
        .bind(a_hi)
        .bind(b_lo)
        .bind(b_hi)
        .bind(range + 1)
        .fetch_one(pool)
        .await?;
    Ok(match both_fit {
        (Some(in_a), Some(in_b)) => Some(intersection(in_a, in_b)),
        _ => None,
    })
}

/// The ids both lists hold, each once (a user holds several tokens of a
/// prefix, so a range may list it more than once).
fn intersection(a: Vec<i64>, b: Vec<i64>) -> Vec<i64> {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let small: HashSet<i64> = small.into_iter().collect();
    let mut both: Vec<i64> = large.into_iter().filter(|id| small.contains(id)).collect();
    both.sort_unstable();
    both.dedup();
    both
}

#[cfg(test)]
mod tests {
    use super::intersection;

    #[test]
    fn the_intersection_holds_each_common_id_once() {
        assert_eq!(intersection(vec![3, 1, 2, 3, 9], vec![2, 3, 3, 4]), vec![2, 3]);
        assert_eq!(intersection(vec![5, 6], vec![7]), Vec::<i64>::new());
        assert_eq!(intersection(vec![1, 1, 4], vec![4, 1, 8, 9, 1]), vec![1, 4]);
    }
}
