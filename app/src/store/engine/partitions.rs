//! Events over time: PostgreSQL keeps them in monthly partitions
//! (`events_pYYYYMM`, declarative range partitioning on `occurred_at`,
//! migration 0016), created ahead by the server, and a retention setting
//! drops whole months; SQLite keeps one table and deletes by time. Client
//! ids for de-duplication live in `event_client_ids` on PostgreSQL, since a
//! partitioned table's unique keys must include the partition key.

use std::collections::BTreeMap;

use chrono::{Datelike, TimeZone, Utc};

use crate::store::event_hours::{Change, HourCounts, HOUR_MS};
use crate::store::{with_pool, with_tx, write_tx, Backend, Store, StoreResult, WriteTx};

/// Months created ahead of the current one.
const MONTHS_AHEAD: i32 = 2;
/// Rows per delete statement on SQLite, so the writer is never held long.
const DELETE_BATCH: i64 = 10_000;

/// What one maintenance pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EventMaintenance {
    /// Partitions created (PostgreSQL).
    pub created: Vec<String>,
    /// Partitions dropped whole (PostgreSQL).
    pub dropped: Vec<String>,
    /// Events deleted row by row (SQLite; on PostgreSQL those in the default partition).
    pub deleted: u64,
}

/// The first millisecond of the month `offset` months after the one `at_ms` is in (UTC).
fn month_start(at_ms: i64, offset: i32) -> (i64, String) {
    let at = Utc.timestamp_millis_opt(at_ms).single().unwrap_or_default();
    let months = at.year() * 12 + at.month0() as i32 + offset;
    let (year, month0) = (months.div_euclid(12), months.rem_euclid(12) as u32);
    let start = Utc.with_ymd_and_hms(year, month0 + 1, 1, 0, 0, 0).single().unwrap_or_default();
    (start.timestamp_millis(), format!("events_p{year:04}{:02}", month0 + 1))
}

impl WriteTx {
    /// Deletes the `limit` oldest-id events that happened before `cutoff`,
    /// and their hour counts (SQLite's retention, a batch at a time so the
    /// writer is never held long); the number deleted.
    async fn delete_events_before(&mut self, cutoff: i64, limit: i64) -> StoreResult<u64> {
        let batch = "SELECT id, app_id, user_id, occurred_at FROM events WHERE occurred_at < $1 ORDER BY id LIMIT $2";
        let rows: Vec<(i64, i64, Option<i64>, i64)> =
            with_tx!(self, |conn| sqlx::query_as(batch).bind(cutoff).bind(limit).fetch_all(&mut *conn).await)?;
        let Some(last) = rows.last().map(|r| r.0) else { return Ok(0) };
        let mut per_app: BTreeMap<i64, HourCounts> = BTreeMap::new();
        for (_, app_id, user_id, at) in &rows {
            if let Some(user_id) = user_id {
                per_app.entry(*app_id).or_default().add(*user_id, *at);
            }
        }
        for (app_id, hours) in &per_app {
            self.change_event_hours(*app_id, hours, Change::Deleted).await?;
        }
        // Exactly the rows read above: the oldest ids before the cutoff.
        let delete = "DELETE FROM events WHERE id <= $1 AND occurred_at < $2";
        let n = with_tx!(self, |conn| sqlx::query(delete)
            .bind(last)
            .bind(cutoff)
            .execute(&mut *conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n)
    }
}

impl Store {
    /// Creates next months' partitions and applies the retention: events
    /// that happened before `now - retention_days` go (whole months on
    /// PostgreSQL once the month is entirely past the cutoff).
    pub async fn maintain_events(&self, now: i64, retention_days: Option<u32>) -> StoreResult<EventMaintenance> {
        let mut done = EventMaintenance::default();
        let cutoff = retention_days.map(|days| now - i64::from(days) * 86_400_000);
        match &self.backend {
            Backend::Postgres(pool) => {
                for offset in 0..=MONTHS_AHEAD {
                    let (from, name) = month_start(now, offset);
                    let (to, _) = month_start(now, offset + 1);
                    if !self.partition_exists(&name).await? {
                        // Events of that month that came before it existed sit
                        // in the default partition: move them in, then attach.
                        // Names and bounds are computed above, never input.
                        // Instances starting together take turns (the lock),
                        // and the one that comes second finds it made.
                        let mut tx = pool.begin().await?;
                        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('audience: event partitions'))")
                            .execute(&mut *tx)
                            .await?;
                        let made: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
                            .bind(&name)
                            .fetch_one(&mut *tx)
                            .await?;
                        if made {
                            continue;
                        }
                        sqlx::query(&format!("CREATE TABLE {name} (LIKE events INCLUDING DEFAULTS)"))
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query(&format!(
                            "WITH moved AS (DELETE FROM events_default WHERE occurred_at >= {from}
                                 AND occurred_at < {to} RETURNING *)
                             INSERT INTO {name} SELECT * FROM moved"
                        ))
                        .execute(&mut *tx)
                        .await?;
                        sqlx::query(&format!(
                            "ALTER TABLE events ATTACH PARTITION {name} FOR VALUES FROM ({from}) TO ({to})"
                        ))
                        .execute(&mut *tx)
                        .await?;
                        tx.commit().await?;
                        done.created.push(name);
                    }
                }
                if let Some(cutoff) = cutoff {
                    for (name, upper) in self.event_partitions().await? {
                        if upper <= cutoff {
                            // The month's hour counts go with it (bounds on the hour).
                            let (lower, _) = month_start(upper - 1, 0);
                            let mut tx = pool.begin().await?;
                            sqlx::query(&format!("DROP TABLE {name}")).execute(&mut *tx).await?;
                            sqlx::query("DELETE FROM event_hours WHERE hour >= $1 AND hour < $2")
                                .bind(lower)
                                .bind(upper)
                                .execute(&mut *tx)
                                .await?;
                            tx.commit().await?;
                            done.dropped.push(name);
                        }
                    }
                    // Events outside every month: their hour counts are taken
                    // away in the same statement.
                    let sql = "WITH gone AS (
                                   DELETE FROM events_default WHERE occurred_at < $1
                                   RETURNING app_id, user_id, occurred_at - occurred_at % $2 AS hour
                               ), counted AS (
                                   SELECT app_id, user_id, hour, COUNT(*) AS n FROM gone
                                   WHERE user_id IS NOT NULL GROUP BY app_id, user_id, hour
                               ), fixed AS (
                                   UPDATE event_hours h SET n = h.n - c.n FROM counted c
                                   WHERE h.app_id = c.app_id AND h.user_id = c.user_id AND h.hour = c.hour
                               )
                               SELECT COUNT(*) FROM gone";
                    let deleted: i64 = sqlx::query_scalar(sql).bind(cutoff).bind(HOUR_MS).fetch_one(pool).await?;
                    done.deleted = deleted as u64;
                    let sql = "DELETE FROM event_client_ids WHERE received_at < $1";
                    sqlx::query(sql).bind(cutoff).execute(pool).await?;
                }
            }
            Backend::Sqlite(_) => {
                if let Some(cutoff) = cutoff {
                    loop {
                        let n = write_tx!(self, |tx| tx.delete_events_before(cutoff, DELETE_BATCH).await)?;
                        done.deleted += n;
                        if n < DELETE_BATCH as u64 {
                            break;
                        }
                    }
                }
            }
        }
        Ok(done)
    }

    async fn partition_exists(&self, name: &str) -> StoreResult<bool> {
        let sql = "SELECT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                   JOIN pg_class p ON p.oid = i.inhparent
                   WHERE p.relname = 'events' AND c.relname = $1 AND pg_table_is_visible(c.oid))";
        with_pool!(self, |pool| Ok(sqlx::query_scalar(sql).bind(name).fetch_one(pool).await?))
    }

    /// The monthly partitions (not the default one), with their upper bound.
    pub async fn event_partitions(&self) -> StoreResult<Vec<(String, i64)>> {
        let sql = "SELECT c.relname::TEXT FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                   JOIN pg_class p ON p.oid = i.inhparent
                   WHERE p.relname = 'events' AND c.relname LIKE 'events\\_p%' AND pg_table_is_visible(c.oid)
                   ORDER BY 1";
        let names: Vec<String> = with_pool!(self, |pool| sqlx::query_scalar(sql).fetch_all(pool).await?);
        Ok(names
            .into_iter()
            .filter_map(|name| {
                let (year, month) = (name.get(8..12)?.parse::<i32>().ok()?, name.get(12..14)?.parse::<u32>().ok()?);
                let start = Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0).single()?;
                Some((name, month_start(start.timestamp_millis(), 1).0))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_roll_over_years() {
        let nov_2026 = Utc.with_ymd_and_hms(2026, 11, 29, 23, 0, 0).unwrap().timestamp_millis();
        assert_eq!(month_start(nov_2026, 0).1, "events_p202611");
        assert_eq!(month_start(nov_2026, 2).1, "events_p202701");
        assert_eq!(month_start(nov_2026, -11).1, "events_p202512");
        let (jan, _) = month_start(nov_2026, 2);
        assert_eq!(jan, Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap().timestamp_millis());
    }
}
