//! Deleting every event of one app: what `server bench ingest` wrote into
//! its own app on an earlier run. Each run used to leave 300,000+ events
//! behind, and a bench database said to hold 10M events held twice that
//! after a day of runs. Users and devices stay (a few thousand rows).

use crate::store::{with_tx, Store, StoreResult, WriteTx};
use crate::write_tx;

/// Events deleted per write transaction: the SQLite writer is never held
/// long, and neither database's log takes one huge transaction.
const CHUNK: i64 = 20_000;

impl WriteTx {
    /// Deletes up to `limit` events of `app_id`; how many.
    async fn delete_app_events_chunk(&mut self, app_id: i64, limit: i64) -> StoreResult<u64> {
        let sql = "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE app_id = $1 LIMIT $2)";
        let n = with_tx!(self, |conn| sqlx::query(sql)
            .bind(app_id)
            .bind(limit)
            .execute(&mut *conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n)
    }

    /// The app's hour counts and (PostgreSQL) claimed client ids.
    async fn delete_app_event_traces(&mut self, app_id: i64) -> StoreResult<()> {
        let hours = "DELETE FROM event_hours WHERE app_id = $1";
        with_tx!(self, |conn| sqlx::query(hours).bind(app_id).execute(&mut *conn).await.map(|_| ()))?;
        if self.is_postgres() {
            let claims = "DELETE FROM event_client_ids WHERE app_id = $1";
            sqlx::query(claims).bind(app_id).execute(&mut **self.postgres()?).await?;
        }
        Ok(())
    }
}

impl Store {
    /// Deletes every event of `app_id`, with its hour counts and claimed
    /// client ids, in transactions of [`CHUNK`] events; how many went.
    pub async fn delete_app_events(&self, app_id: i64) -> StoreResult<u64> {
        let mut deleted = 0;
        loop {
            let n = write_tx!(self, |tx| tx.delete_app_events_chunk(app_id, CHUNK).await)?;
            deleted += n;
            if n < CHUNK as u64 {
                break;
            }
        }
        write_tx!(self, |tx| tx.delete_app_event_traces(app_id).await)?;
        Ok(deleted)
    }
}
