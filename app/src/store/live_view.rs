//! The app-wide Live page's reads: active users from the activity indexes
//! (never a scan of the events), the newest events of an app, the events a
//! commit stored for the live fan-out, and the live map's positions.

use super::activity::activity_columns;
use super::batch::Marks;
use super::{with_pool, Backend, Store, StoreResult, StoredIds, SEEN_PRECISION_MS};
use crate::model::activity::ActivityEvent;
use crate::model::devices::Fix;
use crate::model::live::{ActiveNow, LiveCounts, LiveEvent, LivePosition, PlatformActive, ACTIVE_WINDOWS, TOP_TYPES};

/// A Live page's first rows come from at most this many of the newest
/// events (of every app): a filter that matches none of them shows an
/// empty stream rather than searching the history.
pub const RECENT_EVENTS_SCANNED: i64 = 20_000;

/// A Live stream's replay after a reconnect looks at most this many events
/// (of every app) past where it stopped: a gap longer than that is not
/// replayed, as the replay itself is capped.
pub const REPLAY_SCANNED: i64 = 200_000;

macro_rules! live_columns {
    () => {
        concat!(
            activity_columns!(),
            ", u.external_id AS user_external_id, u.user_name, d.platform, COALESCE(u.active, TRUE) AS user_active"
        )
    };
}

/// The device and user of an event `e`.
macro_rules! live_joins {
    () => {
        " LEFT JOIN devices d ON d.id = e.device_id LEFT JOIN users u ON u.id = e.user_id"
    };
}

const LIVE_FROM: &str = concat!(" FROM events e", live_joins!());

const MINUTE_MS: i64 = 60_000;

/// [`live_columns!`]'s values of a row, as SQLite's `json_array` writes them.
type JsonRow = (
    i64,
    i64,
    Option<i64>,
    String,
    Option<i64>,
    Option<String>,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
);

/// SQLite: the live rows `filter` picks, in id order, as one JSON array of
/// arrays. sqlx hands SQLite's rows over one at a time (each row sent from
/// its worker thread); the fan-out reads every event of a watched app, and
/// one value per read keeps that off the ingest's two cores.
fn sqlite_as_json(filter: &str) -> String {
    format!(
        concat!(
            "SELECT json_group_array(json_array(e.id, e.app_id, e.user_id, e.event_type, e.device_id, ",
            "COALESCE(d.device_string, d.platform), e.occurred_at, e.data, u.external_id, u.user_name, d.platform, ",
            "COALESCE(u.active, TRUE))) FROM (SELECT * FROM events e {} ORDER BY e.id) AS e",
            live_joins!()
        ),
        filter
    )
}

/// The rows of [`sqlite_as_json`]'s answer.
fn from_json(rows: &str) -> StoreResult<Vec<LiveEvent>> {
    let rows: Vec<JsonRow> =
        serde_json::from_str(rows).map_err(|err| super::StoreError::Unavailable(format!("live rows: {err}")))?;
    let mut events: Vec<LiveEvent> = rows
        .into_iter()
        .map(
            |(
                id,
                app_id,
                user_id,
                event_type,
                device_id,
                device_name,
                occurred_at,
                data,
                user,
                name,
                platform,
                active,
            )| {
                LiveEvent {
                    event: ActivityEvent { id, app_id, user_id, event_type, device_id, device_name, occurred_at, data },
                    user_external_id: user,
                    user_name: name,
                    platform,
                    user_active: active != 0,
                }
            },
        )
        .collect();
    // Aggregated as the subquery ordered them; sorted again, as the
    // fan-out relies on it and SQL does not promise an aggregate's order.
    events.sort_by_key(|event| event.event.id);
    Ok(events)
}

impl Store {
    /// Users active in each window before `now`, by platform, and users
    /// created in the last hour. Each count reads an index range: users by
    /// last activity (with their devices, for the platforms), users by
    /// creation.
    pub async fn active_now(&self, app_id: i64, now: i64) -> StoreResult<ActiveNow> {
        // The same window starts as the users list's `?active=` filter
        // (last activity is kept to the minute), so a count and the list
        // it links to agree.
        let [w1, w5, w30] = ACTIVE_WINDOWS.map(|window| window.since(now, SEEN_PRECISION_MS));
        let users_sql = "SELECT COALESCE(SUM(CASE WHEN last_seen_at >= $2 THEN 1 ELSE 0 END), 0),
                                COALESCE(SUM(CASE WHEN last_seen_at >= $3 THEN 1 ELSE 0 END), 0),
                                COUNT(*)
                         FROM users WHERE app_id = $1 AND COALESCE(last_seen_at, 0) >= $4 AND active";
        let (a, b, c): (i64, i64, i64) = with_pool!(self, |pool| sqlx::query_as(users_sql)
            .bind(app_id)
            .bind(w1)
            .bind(w5)
            .bind(w30)
            .fetch_one(pool)
            .await)?;
        // The active users (a range of the activity index) by their
        // devices' platforms.
        let platforms_sql = "SELECT d.platform,
                                    COUNT(DISTINCT CASE WHEN u.last_seen_at >= $2 THEN u.id END),
                                    COUNT(DISTINCT CASE WHEN u.last_seen_at >= $3 THEN u.id END),
                                    COUNT(DISTINCT u.id)
                             FROM users u JOIN devices d ON d.user_id = u.id AND d.app_id = u.app_id
                             WHERE u.app_id = $1 AND COALESCE(u.last_seen_at, 0) >= $4 AND u.active
                             GROUP BY d.platform";
        let rows: Vec<(String, i64, i64, i64)> = with_pool!(self, |pool| sqlx::query_as(platforms_sql)
            .bind(app_id)
            .bind(w1)
            .bind(w5)
            .bind(w30)
            .fetch_all(pool)
            .await)?;
        let mut platforms: Vec<PlatformActive> =
            rows.into_iter().map(|(platform, a, b, c)| PlatformActive { platform, users: [a, b, c] }).collect();
        platforms.sort_by(|x, y| y.users[2].cmp(&x.users[2]).then_with(|| x.platform.cmp(&y.platform)));
        let new_sql = "SELECT COUNT(*) FROM users WHERE app_id = $1 AND created_at >= $2 AND active";
        let new_last_hour: i64 = with_pool!(self, |pool| sqlx::query_scalar(new_sql)
            .bind(app_id)
            .bind(now - 60 * MINUTE_MS)
            .fetch_one(pool)
            .await)?;
        Ok(ActiveNow { users: [a, b, c], platforms, new_last_hour, at: now })
    }

    /// The app's counts as the Live page shows them at `now`: active users
    /// and the top event types of the last hour.
    pub async fn live_counts(&self, app_id: i64, now: i64) -> StoreResult<LiveCounts> {
        let (active, top) =
            tokio::try_join!(self.active_now(app_id, now), self.top_event_types(app_id, now, TOP_TYPES))?;
        Ok(LiveCounts { active, top })
    }

    /// The newest `limit` events of the app among the newest
    /// [`RECENT_EVENTS_SCANNED`] stored, newest first, deactivated users'
    /// left out. The app is tested on each row of the id range (`+app_id`
    /// keeps SQLite off the app's type index, which would walk every event
    /// of the app to find the newest).
    pub async fn recent_live_events(&self, app_id: i64, limit: i64) -> StoreResult<Vec<LiveEvent>> {
        let newest = self.last_event_id().await?;
        let sql = concat!(
            "SELECT ",
            live_columns!(),
            " FROM events e LEFT JOIN devices d ON d.id = e.device_id LEFT JOIN users u ON u.id = e.user_id
             WHERE e.id > $1 AND e.id <= $2 AND +e.app_id = $3 AND (e.user_id IS NULL OR u.active)
             ORDER BY e.id DESC LIMIT $4"
        );
        with_pool!(self, |pool| Ok(sqlx::query_as(sql)
            .bind(newest - RECENT_EVENTS_SCANNED)
            .bind(newest)
            .bind(app_id)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    /// Up to `limit` events of the app with ids after `after`, in id order
    /// (a Live stream's replay), deactivated users' left out, found among
    /// the [`REPLAY_SCANNED`] events stored after `after`. The rows are read
    /// in id order (`+app_id`: the app's type index would sort all its
    /// events first).
    pub async fn live_events_after(&self, app_id: i64, after: i64, limit: i64) -> StoreResult<Vec<LiveEvent>> {
        let sql = concat!(
            "SELECT ",
            live_columns!(),
            " FROM events e LEFT JOIN devices d ON d.id = e.device_id LEFT JOIN users u ON u.id = e.user_id
             WHERE e.id > $1 AND e.id <= $2 AND +e.app_id = $3 AND (e.user_id IS NULL OR u.active)
             ORDER BY e.id LIMIT $4"
        );
        with_pool!(self, |pool| Ok(sqlx::query_as(sql)
            .bind(after)
            .bind(after.saturating_add(REPLAY_SCANNED))
            .bind(app_id)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    /// The events `ids` names of the apps `apps`, in id order, for the
    /// live fan-out (deactivated users' included, marked: the profile's
    /// own stream still shows them). Rows are found by id; `+app_id` keeps
    /// SQLite off the app's type index, which would walk all its events.
    pub async fn live_events_stored(&self, ids: &StoredIds, apps: &[i64]) -> StoreResult<Vec<LiveEvent>> {
        let apps_list = |first: usize| Marks::Anonymous.list(first, apps.len());
        match (ids, &self.backend) {
            (StoredIds::None, _) => Ok(Vec::new()),
            (StoredIds::List(ids), Backend::Postgres(pool)) => {
                let sql = format!(
                    concat!(
                        "SELECT ",
                        live_columns!(),
                        "{} WHERE e.id = ANY($1) AND +e.app_id = ANY($2) ORDER BY e.id"
                    ),
                    LIVE_FROM
                );
                Ok(sqlx::query_as(&sql).bind(ids).bind(apps).fetch_all(pool).await?)
            }
            (StoredIds::List(ids), Backend::Sqlite(pool)) => {
                let mut events = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(500) {
                    let sql = sqlite_as_json(&format!(
                        "WHERE e.id IN ({}) AND +e.app_id IN ({})",
                        Marks::Anonymous.list(1, chunk.len()),
                        apps_list(chunk.len() + 1)
                    ));
                    let mut q = sqlx::query_scalar(&sql);
                    for id in chunk.iter().chain(apps) {
                        q = q.bind(*id);
                    }
                    let rows: String = q.fetch_one(pool).await?;
                    events.extend(from_json(&rows)?);
                }
                Ok(events)
            }
            (StoredIds::Range { after, up_to }, Backend::Sqlite(pool)) => {
                let sql = sqlite_as_json(&format!("WHERE e.id > ? AND e.id <= ? AND +e.app_id IN ({})", apps_list(3)));
                let mut q = sqlx::query_scalar(&sql).bind(after).bind(up_to);
                for app in apps {
                    q = q.bind(*app);
                }
                let rows: String = q.fetch_one(pool).await?;
                from_json(&rows)
            }
            (StoredIds::Range { after, up_to }, _) => {
                let sql = format!(
                    concat!(
                        "SELECT ",
                        live_columns!(),
                        "{} WHERE e.id > ? AND e.id <= ? AND +e.app_id IN ({}) ORDER BY e.id"
                    ),
                    LIVE_FROM,
                    apps_list(3)
                );
                with_pool!(self, |pool| {
                    let mut q = sqlx::query_as(&sql).bind(after).bind(up_to);
                    for app in apps {
                        q = q.bind(*app);
                    }
                    Ok(q.fetch_all(pool).await?)
                })
            }
        }
    }

    /// The users among `users` who are members of `segment`.
    pub async fn members_among(&self, segment: i64, users: &[i64]) -> StoreResult<Vec<i64>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let marks = if self.is_postgres() { Marks::Numbered } else { Marks::Anonymous };
        let sql = format!(
            "SELECT user_id FROM segment_members WHERE segment_id = {} AND user_id IN ({})",
            marks.list(1, 1),
            marks.list(2, users.len())
        );
        with_pool!(self, |pool| {
            let mut q = sqlx::query_scalar(&sql).bind(segment);
            for user in users {
                q = q.bind(*user);
            }
            Ok(q.fetch_all(pool).await?)
        })
    }

    /// The last positions of the app's devices active since `since` (their
    /// users active), newest first, at most `limit`.
    pub async fn live_positions(&self, app_id: i64, since: i64, limit: i64) -> StoreResult<Vec<LivePosition>> {
        let sql = "SELECT d.id, d.user_id, COALESCE(NULLIF(u.user_name, ''), u.external_id), d.last_latitude,
                          d.last_longitude, d.last_accuracy, d.last_location_at
                   FROM devices d JOIN users u ON u.id = d.user_id
                   WHERE d.app_id = $1 AND d.last_active_at >= $2 AND u.active AND d.last_location_at IS NOT NULL
                   ORDER BY d.last_active_at DESC LIMIT $3";
        type Row = (i64, i64, String, f64, f64, Option<f64>, i64);
        let rows: Vec<Row> =
            with_pool!(self, |pool| sqlx::query_as(sql).bind(app_id).bind(since).bind(limit).fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .map(|(device_id, user_id, user, latitude, longitude, accuracy, at)| LivePosition {
                device_id,
                user_id,
                user,
                fix: Fix { latitude, longitude, accuracy, at },
            })
            .collect())
    }
}
