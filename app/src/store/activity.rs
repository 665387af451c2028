//! Reading events back as the profile shows them: by id (the live fan-out),
//! and a user's events after an id (a reconnecting stream's replay).

use super::batch::Marks;
use super::events::StoredIds;
use super::tx::TxInner;
use super::{with_pool, with_tx, Backend, Store, StoreResult, WriteTx};
use crate::model::activity::ActivityEvent;

/// The columns of an [`ActivityEvent`], over `events e LEFT JOIN devices d`.
macro_rules! activity_columns {
    () => {
        "e.id, e.app_id, e.user_id, e.event_type, e.device_id, COALESCE(d.device_string, d.platform) AS device_name, \
         e.occurred_at, e.data"
    };
}
pub(crate) use activity_columns;

/// Up to `$5` of user `$1`'s events of app `$3` with ids in `($2, $4]`, in
/// id order ([`Store::user_events_after`]), from the user's entries of
/// `events_by_user_occurred` (all of them: the ids are compared in the
/// index; 63 ms for a user with 1M events on PostgreSQL).
pub(crate) const USER_EVENTS_AFTER: &str = concat!(
    "SELECT ",
    activity_columns!(),
    " FROM events e LEFT JOIN devices d ON d.id = e.device_id
     WHERE e.user_id = $1 AND e.id > $2 AND e.app_id = $3 AND e.id <= $4 ORDER BY e.id LIMIT $5"
);

/// The same (same parameters) from the ids `($2, $4]` of every user, by the
/// primary key (the unary `+` keeps SQLite off the per-user indexes): for a
/// short gap this reads fewer rows whatever the user's history.
pub(crate) const USER_EVENTS_IN_RANGE: &str = concat!(
    "SELECT ",
    activity_columns!(),
    " FROM events e LEFT JOIN devices d ON d.id = e.device_id
     WHERE +e.user_id = $1 AND e.id > $2 AND +e.app_id = $3 AND e.id <= $4 ORDER BY e.id LIMIT $5"
);

/// Gaps of at most this many ids (every user's events) are replayed by
/// [`USER_EVENTS_IN_RANGE`]: the stream a profile page opens (its `after`
/// the newest id when the page was rendered) and one back after a short
/// drop. Longer ones read the user's entries ([`USER_EVENTS_AFTER`]).
const REPLAY_RANGE_IDS: i64 = 5_000;

/// Ids read per statement (one placeholder each).
const IDS_PER_READ: usize = 500;

/// SQLite: ` AND e.user_id IN (?, …)` for `users`, after the statement's
/// other (anonymous) placeholders.
/// The users' condition on rows found by id: `+user_id` keeps SQLite on the
/// id range (the user index would walk every event of the user per read).
fn users_filter(users: Option<&[i64]>) -> String {
    users.map_or_else(String::new, |users| format!(" AND +e.user_id IN ({})", Marks::Anonymous.list(1, users.len())))
}

impl Store {
    /// The events with these ids, in id order (the live fan-out reads the
    /// rows a commit notification names); with `users`, only theirs.
    pub async fn events_by_ids(&self, ids: &[i64], users: Option<&[i64]>) -> StoreResult<Vec<ActivityEvent>> {
        if let Backend::Postgres(pool) = &self.backend {
            // One array parameter: the statement text is the same for every
            // batch, so PostgreSQL soon plans it once (generic plan, a nested
            // loop over the primary keys). Spelled as 500 placeholders it was
            // planned anew each time (5 ms over the partitions) and, estimated
            // at hundreds of rows, ran as a parallel query: two worker
            // processes started per ingested batch, a fifth of the database's
            // CPU under ingest.
            let sql = format!(
                concat!(
                    "SELECT ",
                    activity_columns!(),
                    " FROM events e LEFT JOIN devices d ON d.id = e.device_id WHERE e.id = ANY($1){} ORDER BY e.id"
                ),
                if users.is_some() { " AND +e.user_id = ANY($2)" } else { "" }
            );
            let query = sqlx::query_as(&sql).bind(ids);
            let query = match users {
                Some(users) => query.bind(users),
                None => query,
            };
            return Ok(query.fetch_all(pool).await?);
        }
        let mut events = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_READ) {
            let sql = format!(
                concat!(
                    "SELECT ",
                    activity_columns!(),
                    " FROM events e LEFT JOIN devices d ON d.id = e.device_id WHERE e.id IN ({}){} ORDER BY e.id"
                ),
                Marks::Anonymous.list(1, chunk.len()),
                users_filter(users)
            );
            let rows: Vec<ActivityEvent> = with_pool!(self, |pool| {
                let mut q = sqlx::query_as(&sql);
                for id in chunk.iter().chain(users.unwrap_or_default()) {
                    q = q.bind(*id);
                }
                q.fetch_all(pool).await
            })?;
            events.extend(rows);
        }
        events.sort_by_key(|e| e.id);
        Ok(events)
    }

    /// Up to `limit` of one user's events with ids after `after_id`, in id
    /// order: what a stream that last saw `after_id` missed. No index is
    /// keyed by (user, id) since migration 0020 (one index entry fewer per
    /// stored event); a short gap is read by id, a long one from the user's
    /// entries (see [`REPLAY_RANGE_IDS`]). Events committed after the
    /// newest id read here reach the stream live (it subscribed first).
    pub async fn user_events_after(
        &self,
        app_id: i64,
        user_id: i64,
        after_id: i64,
        limit: i64,
    ) -> StoreResult<Vec<ActivityEvent>> {
        let newest = self.last_event_id().await?;
        let sql =
            if newest.saturating_sub(after_id) <= REPLAY_RANGE_IDS { USER_EVENTS_IN_RANGE } else { USER_EVENTS_AFTER };
        with_pool!(self, |pool| Ok(sqlx::query_as(sql)
            .bind(user_id)
            .bind(after_id)
            .bind(app_id)
            .bind(newest)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    /// Up to `limit` ids of events of any app after `after_id`, in order:
    /// the live listener's catch-up after its connection came back.
    pub async fn event_ids_after(&self, after_id: i64, limit: i64) -> StoreResult<Vec<i64>> {
        let sql = "SELECT id FROM events WHERE id > $1 ORDER BY id LIMIT $2";
        with_pool!(self, |pool| Ok(sqlx::query_scalar(sql).bind(after_id).bind(limit).fetch_all(pool).await?))
    }

    /// The newest event id, 0 when there is none.
    pub async fn last_event_id(&self) -> StoreResult<i64> {
        with_pool!(self, |pool| Ok(sqlx::query_scalar(NEWEST_EVENT).fetch_one(pool).await?))
    }

    /// The stored events `ids` names (see [`StoredIds`]), in id order;
    /// with `users`, only theirs.
    pub async fn stored_events(&self, ids: &StoredIds, users: Option<&[i64]>) -> StoreResult<Vec<ActivityEvent>> {
        match ids {
            StoredIds::None => Ok(Vec::new()),
            StoredIds::List(ids) => self.events_by_ids(ids, users).await,
            StoredIds::Range { after, up_to } => {
                // Only SQLite hands out ranges; its marks are anonymous.
                let sql = format!(
                    concat!(
                        "SELECT ",
                        activity_columns!(),
                        " FROM events e LEFT JOIN devices d ON d.id = e.device_id WHERE e.id > ? AND e.id <= ?{} ORDER BY e.id"
                    ),
                    users_filter(users)
                );
                with_pool!(self, |pool| {
                    let mut q = sqlx::query_as(&sql).bind(after).bind(up_to);
                    for user in users.unwrap_or_default() {
                        q = q.bind(*user);
                    }
                    Ok(q.fetch_all(pool).await?)
                })
            }
        }
    }

    /// PostgreSQL: a listener on the events channel (see
    /// [`WriteTx::notify_events`]) and the channel's name; `None` on SQLite.
    pub async fn event_listener(&self) -> StoreResult<Option<(sqlx::postgres::PgListener, String)>> {
        let Backend::Postgres(pool) = &self.backend else { return Ok(None) };
        let channel: String = sqlx::query_scalar(CHANNEL).fetch_one(pool).await?;
        let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen(&channel).await?;
        Ok(Some((listener, channel)))
    }

    /// PostgreSQL: sends `payload` on the events channel to every instance
    /// at once (no transaction, no row); nothing on SQLite (one instance).
    pub async fn announce(&self, payload: &str) -> StoreResult<()> {
        let Backend::Postgres(pool) = &self.backend else { return Ok(()) };
        let sql = "SELECT pg_notify('audience_events_' || current_schema(), $1)";
        sqlx::query(sql).bind(payload).execute(pool).await?;
        Ok(())
    }
}

/// The NOTIFY channel of committed events' ids: one per schema, as
/// channels are database-wide (tests run in schemas of one database).
const CHANNEL: &str = "SELECT 'audience_events_' || current_schema()";

/// Ids per notification: 19 digits and a comma each stay under 8,000 bytes.
const NOTIFY_IDS: usize = 390;

/// A notification's payload that announces a device's new position
/// (`moved:<device id>`) rather than event ids.
pub const MOVED_PREFIX: &str = "moved:";

const NEWEST_EVENT: &str = "SELECT COALESCE(MAX(id), 0) FROM events";

impl WriteTx {
    /// The newest event id, 0 when there is none.
    pub(crate) async fn newest_event_id(&mut self) -> StoreResult<i64> {
        Ok(with_tx!(self, |conn| sqlx::query_scalar(NEWEST_EVENT).fetch_one(&mut *conn).await)?)
    }

    /// PostgreSQL: announces `ids` on the events channel to every server
    /// instance, delivered when (and only if) this transaction commits; the
    /// payload is the ids, comma-separated, under NOTIFY's 8,000-byte limit.
    /// SQLite: nothing (one instance; the caller hands the ids over).
    pub(crate) async fn notify_events(&mut self, ids: &[i64]) -> StoreResult<()> {
        let TxInner::Postgres(tx) = &mut self.inner else { return Ok(()) };
        for chunk in ids.chunks(NOTIFY_IDS) {
            let payload: Vec<String> = chunk.iter().map(i64::to_string).collect();
            let sql = "SELECT pg_notify('audience_events_' || current_schema(), $1)";
            sqlx::query(sql).bind(payload.join(",")).execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// PostgreSQL: announces that `device_id` has a new last position, on
    /// the same channel and with the same commit-only delivery as events.
    pub(crate) async fn notify_moved(&mut self, device_id: i64) -> StoreResult<()> {
        let TxInner::Postgres(tx) = &mut self.inner else { return Ok(()) };
        let sql = "SELECT pg_notify('audience_events_' || current_schema(), $1)";
        sqlx::query(sql).bind(format!("{MOVED_PREFIX}{device_id}")).execute(&mut **tx).await?;
        Ok(())
    }
}
