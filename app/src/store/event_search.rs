//! One user's events for the profile: the last hour, the search over a
//! period (keyset pages newest first, a bounded text filter), its histogram,
//! and the app's event types. Every read walks `events_by_user_occurred` or
//! `events_by_user_type_occurred` (migration 0013) from the newest end.

use super::{with_pool, Store, StoreResult};
use crate::model::activity::{ActivityEvent, EventQuery, Histogram};
use crate::store::activity::activity_columns;

/// Rows of the user's events in the period one text-filtered page may read.
/// Chosen so a page stays under the 20 ms goal for a box's server function
/// even for a user with a million events (most of the time goes to
/// `lower(data)`, so the cost is linear in this budget; `server bench
/// activity` measures it). "Load more" goes on from where the budget ran out.
pub const SCAN_BUDGET: i64 = 5_000;

/// At most this many event types are listed.
pub const TYPES_LIMIT: i64 = 200;

/// A keyset position: `(occurred_at, id)`.
pub type EventPosition = (i64, i64);

/// What a search read: up to `limit` events, newest first, and where the text
/// filter's scan stopped when its budget ran out before `limit` were found
/// (the next page goes on strictly after that position).
#[derive(Debug, Clone, PartialEq)]
pub struct FoundEvents {
    pub events: Vec<ActivityEvent>,
    pub stopped_at: Option<EventPosition>,
}

/// `text` as a LIKE pattern matching it anywhere, with `\`, `%` and `_` taken
/// literally (`ESCAPE '\'`).
pub fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The user's events of the period before the exclusive bound `($4, $5)`,
/// of one type when `typed` (`$6`); the next free placeholder number.
fn window(typed: bool) -> (String, usize) {
    let mut sql = String::from(
        "e.app_id = $1 AND e.user_id = $2 AND e.occurred_at >= $3 AND e.occurred_at <= $4 \
         AND (e.occurred_at < $4 OR e.id < $5)",
    );
    if typed {
        sql.push_str(" AND e.event_type = $6");
        (sql, 7)
    } else {
        (sql, 6)
    }
}

/// The exclusive upper bound of a page: the cursor, or the period's end.
fn upper_bound(query: &EventQuery, after: Option<EventPosition>) -> EventPosition {
    let end = (query.period.to, i64::MIN);
    after.map_or(end, |after| after.min(end))
}

/// The type and text filters as given: empty means none.
fn filters(query: &EventQuery) -> (Option<&str>, Option<String>) {
    let event_type = query.event_type.as_deref().filter(|t| !t.is_empty());
    let text = query.text.as_deref().filter(|t| !t.is_empty()).map(contains_pattern);
    (event_type, text)
}

impl Store {
    /// Up to `limit` of the user's events at or after `since_ms`, newest first.
    pub async fn recent_user_events(
        &self,
        app_id: i64,
        user_id: i64,
        since_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<ActivityEvent>> {
        let sql = concat!(
            "SELECT ",
            activity_columns!(),
            " FROM events e LEFT JOIN devices d ON d.id = e.device_id
             WHERE e.app_id = $1 AND e.user_id = $2 AND e.occurred_at >= $3
             ORDER BY e.occurred_at DESC, e.id DESC LIMIT $4"
        );
        with_pool!(self, |pool| Ok(sqlx::query_as(sql)
            .bind(app_id)
            .bind(user_id)
            .bind(since_ms)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    /// Up to `limit` of the user's events matching `query` strictly before
    /// `after` (newest first, by `(occurred_at, id)`). With a text filter at
    /// most `budget` events of the period are read; when they run out first,
    /// [`FoundEvents::stopped_at`] says where.
    pub async fn search_user_events(
        &self,
        app_id: i64,
        user_id: i64,
        query: &EventQuery,
        after: Option<EventPosition>,
        limit: i64,
        budget: i64,
    ) -> StoreResult<FoundEvents> {
        let upper = upper_bound(query, after);
        let (event_type, pattern) = filters(query);
        let (window, next) = window(event_type.is_some());
        let sql = match pattern {
            None => format!(
                concat!(
                    "SELECT ",
                    activity_columns!(),
                    " FROM events e LEFT JOIN devices d ON d.id = e.device_id WHERE {}
                     ORDER BY e.occurred_at DESC, e.id DESC LIMIT ${}"
                ),
                window, next
            ),
            // The budget bounds the inner scan; the filter runs on what it read.
            Some(_) => format!(
                concat!(
                    "SELECT ",
                    activity_columns!(),
                    " FROM (SELECT e.id, e.app_id, e.user_id, e.event_type, e.device_id, e.occurred_at, e.data
                            FROM events e WHERE {}
                            ORDER BY e.occurred_at DESC, e.id DESC LIMIT ${}) e
                     LEFT JOIN devices d ON d.id = e.device_id
                     WHERE lower(e.data) LIKE lower(${}) ESCAPE '\\'
                     ORDER BY e.occurred_at DESC, e.id DESC LIMIT ${}"
                ),
                window,
                next,
                next + 1,
                next + 2
            ),
        };
        let events: Vec<ActivityEvent> = with_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql)
                // Unprepared with a text filter: see `budget_end`.
                .persistent(pattern.is_none())
                .bind(app_id)
                .bind(user_id)
                .bind(query.period.from)
                .bind(upper.0)
                .bind(upper.1);
            if let Some(event_type) = event_type {
                q = q.bind(event_type);
            }
            if let Some(pattern) = &pattern {
                q = q.bind(budget).bind(pattern);
            }
            q.bind(limit).fetch_all(pool).await
        })?;
        let stopped_at = match pattern {
            Some(_) if (events.len() as i64) < limit => self.budget_end(app_id, user_id, query, upper, budget).await?,
            _ => None,
        };
        Ok(FoundEvents { events, stopped_at })
    }

    /// The position of the `budget`th event a text-filtered page scanned, if
    /// there were that many (the scan stopped there, not at the period's start).
    async fn budget_end(
        &self,
        app_id: i64,
        user_id: i64,
        query: &EventQuery,
        upper: EventPosition,
        budget: i64,
    ) -> StoreResult<Option<EventPosition>> {
        let event_type = filters(query).0;
        let (window, next) = window(event_type.is_some());
        let sql = format!(
            "SELECT e.occurred_at, e.id FROM events e WHERE {window}
             ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1 OFFSET ${next}"
        );
        // The text search's two statements are sent unprepared (`persistent(false)`,
        // so PostgreSQL plans each with its values). Prepared and run a sixth time,
        // PostgreSQL switched to a generic plan: without the values it guessed one
        // row per monthly partition, so the budget's `OFFSET` read all of the
        // heaviest user's index entries and sorted them for the newest budget's
        // worth (hundreds of ms) where the plan for the values walks the newest
        // partition's index backwards (milliseconds). Planning each time costs a few ms
        // over the partitions, so the other reads, whose generic plans are right,
        // stay prepared. SQLite plans by index and re-prepares in microseconds.
        with_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql)
                .persistent(false)
                .bind(app_id)
                .bind(user_id)
                .bind(query.period.from)
                .bind(upper.0)
                .bind(upper.1);
            if let Some(event_type) = event_type {
                q = q.bind(event_type);
            }
            Ok(q.bind(budget - 1).fetch_optional(pool).await?)
        })
    }

    /// Counts of the user's events matching `query` per `bucket_ms` from
    /// `query.period.from`, every bucket present (the text filter, when given,
    /// is applied to the whole period: a histogram is exact). Without a
    /// filter, whole hours come from `event_hours` (see there). Otherwise one
    /// index range count per bucket: on SQLite a third of the time of a
    /// GROUP BY, which sorts every row of the period into a temporary B-tree.
    pub async fn user_event_histogram(
        &self,
        app_id: i64,
        user_id: i64,
        query: &EventQuery,
        bucket_ms: i64,
    ) -> StoreResult<Histogram> {
        let (event_type, pattern) = filters(query);
        let period = (query.period.from, query.period.to);
        if event_type.is_none() && pattern.is_none() {
            if let Some(counts) = self.histogram_by_hours(app_id, user_id, period, bucket_ms).await? {
                return Ok(Histogram { bucket_ms, counts, period: query.period });
            }
        }
        let mut filter = String::new();
        let mut next = 6;
        if event_type.is_some() {
            filter.push_str(" AND e.event_type = $6");
            next = 7;
        }
        if pattern.is_some() {
            filter.push_str(&format!(" AND lower(e.data) LIKE lower(${next}) ESCAPE '\\'"));
        }
        // `$3` from, `$4` to, `$5` the bucket width: each bucket's own range
        // is the only bound on occurred_at, so each count walks its bucket alone.
        let sql = format!(
            "WITH RECURSIVE b (lo) AS (
                 SELECT CAST($3 AS BIGINT) UNION ALL SELECT lo + $5 FROM b WHERE lo + $5 < $4
             )
             SELECT b.lo, (SELECT COUNT(*) FROM events e
                 WHERE e.app_id = $1 AND e.user_id = $2 AND e.occurred_at >= b.lo
                 AND e.occurred_at < CASE WHEN b.lo + $5 < $4 THEN b.lo + $5 ELSE $4 END{filter}) AS n
             FROM b"
        );
        let rows: Vec<(i64, i64)> = with_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql)
                .bind(app_id)
                .bind(user_id)
                .bind(query.period.from)
                .bind(query.period.to)
                .bind(bucket_ms);
            if let Some(event_type) = event_type {
                q = q.bind(event_type);
            }
            if let Some(pattern) = &pattern {
                q = q.bind(pattern);
            }
            q.fetch_all(pool).await
        })?;
        let span = (query.period.to - query.period.from).max(0);
        let buckets = (span + bucket_ms - 1) / bucket_ms;
        let mut counts = vec![0; buckets as usize];
        for (lo, n) in rows {
            let bucket = (lo - query.period.from) / bucket_ms;
            if let Some(count) = usize::try_from(bucket).ok().and_then(|b| counts.get_mut(b)) {
                *count += n;
            }
        }
        Ok(Histogram { bucket_ms, counts, period: query.period })
    }

    /// The app's event types, by name, at most [`TYPES_LIMIT`]. A loose index
    /// scan: one index probe per type instead of a pass over every event.
    pub async fn user_event_types(&self, app_id: i64) -> StoreResult<Vec<String>> {
        let sql = "WITH RECURSIVE t (event_type, n) AS (
                SELECT MIN(event_type), CAST(1 AS BIGINT) FROM events WHERE app_id = $1
                UNION ALL
                SELECT (SELECT MIN(e.event_type) FROM events e WHERE e.app_id = $1 AND e.event_type > t.event_type),
                       t.n + 1
                FROM t WHERE t.event_type IS NOT NULL AND t.n < $2
            )
            SELECT event_type FROM t WHERE event_type IS NOT NULL";
        let mut types: Vec<String> =
            with_pool!(self, |pool| sqlx::query_scalar(sql).bind(app_id).bind(TYPES_LIMIT).fetch_all(pool).await)?;
        // The databases' collations differ; one order for both.
        types.sort();
        Ok(types)
    }
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
        assert_eq!(contains_pattern("plain"), "%plain%");
    }
}
