//! Events per app, type and minute of the last two hours: what the Live
//! page's "top events" and their sparklines read (sixty rows per type at
//! most, instead of counting the hour's events, which at 20,000 events a
//! second are 72 million). The ingest adds each group's counts in its
//! transaction; the hourly maintenance forgets older minutes.

use std::collections::BTreeMap;

use super::batch::chunks;
use super::tx::with_tx;
use super::{with_pool, Store, StoreResult, WriteTx};
use crate::model::live::TypeMinutes;

pub const MINUTE_MS: i64 = 60_000;
/// Minutes kept: the last hour's sparklines with room to spare.
pub const KEPT_MS: i64 = 2 * 3600 * 1000;

/// The first millisecond of `at`'s minute.
pub fn minute_of(at: i64) -> i64 {
    at - at.rem_euclid(MINUTE_MS)
}

/// Events per (type, minute) of one app.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MinuteCounts(BTreeMap<(String, i64), i64>);

impl MinuteCounts {
    /// Counts an event of `event_type` that happened at `occurred_at`, if
    /// that lies in the kept window before `now` (a backfill of old events,
    /// or a clock ahead of ours, is not "now").
    pub fn add(&mut self, event_type: &str, occurred_at: i64, now: i64) {
        if occurred_at >= now - KEPT_MS && occurred_at <= now {
            *self.0.entry((event_type.to_string(), minute_of(occurred_at))).or_default() += 1;
        }
    }

    pub(crate) fn merge(&mut self, other: MinuteCounts) {
        for (key, n) in other.0 {
            *self.0.entry(key).or_default() += n;
        }
    }
}

impl WriteTx {
    /// Adds `counts` to the app's minutes, rows in key order (concurrent
    /// groups naming the same minutes wait in one order, never in a cycle).
    pub(crate) async fn add_event_minutes(&mut self, app_id: i64, counts: &MinuteCounts) -> StoreResult<()> {
        let rows: Vec<(&str, i64, i64)> = counts.0.iter().map(|((t, m), n)| (t.as_str(), *m, *n)).collect();
        let marks = self.marks();
        for chunk in chunks(&rows) {
            let sql = format!(
                "INSERT INTO event_minutes (app_id, event_type, minute, n) VALUES {}
                 ON CONFLICT (app_id, event_type, minute) DO UPDATE SET n = event_minutes.n + excluded.n",
                marks.values(chunk.len(), 4)
            );
            with_tx!(self, |conn| {
                let mut query = sqlx::query(&sql);
                for (event_type, minute, n) in chunk {
                    query = query.bind(app_id).bind(*event_type).bind(*minute).bind(*n);
                }
                query.execute(&mut *conn).await.map(|_| ())
            })?;
        }
        Ok(())
    }
}

impl Store {
    /// The `limit` most frequent event types of the app in the hour before
    /// `now` (the current minute included), with their per-minute counts.
    pub async fn top_event_types(&self, app_id: i64, now: i64, limit: usize) -> StoreResult<Vec<TypeMinutes>> {
        let first = minute_of(now) - 59 * MINUTE_MS;
        let sql = "SELECT event_type, minute, n FROM event_minutes WHERE app_id = $1 AND minute >= $2 AND minute <= $3";
        let rows: Vec<(String, i64, i64)> =
            with_pool!(self, |pool| sqlx::query_as(sql).bind(app_id).bind(first).bind(now).fetch_all(pool).await)?;
        let mut types: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for (event_type, minute, n) in rows {
            let slot = ((minute - first) / MINUTE_MS) as usize;
            types.entry(event_type).or_insert_with(|| vec![0; 60])[slot.min(59)] += n;
        }
        let mut top: Vec<TypeMinutes> = types
            .into_iter()
            .map(|(event_type, per_minute)| TypeMinutes { total: per_minute.iter().sum(), event_type, per_minute })
            .filter(|t| t.total > 0)
            .collect();
        top.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.event_type.cmp(&b.event_type)));
        top.truncate(limit);
        Ok(top)
    }

    /// Forgets the minutes that fell out of the kept window.
    pub async fn forget_event_minutes(&self, now: i64) -> StoreResult<u64> {
        let sql = "DELETE FROM event_minutes WHERE minute < $1";
        let cutoff = minute_of(now - KEPT_MS);
        let done = crate::write_tx!(self, |tx| Ok(with_tx!(tx, |conn| sqlx::query(sql)
            .bind(cutoff)
            .execute(&mut *conn)
            .await
            .map(|r| r.rows_affected()))?))?;
        Ok(done)
    }
}
