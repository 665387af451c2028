//! `GET /api/live/app`: the Live page's stream of the whole app. Events:
//! - `event`: one event matching the filters (`LiveEvent`), newest last,
//!   its SSE `id` the event's id;
//! - `rate`: once a second while events match, `{matched, shown, every}`:
//!   the exact count of the second, how many rows were sent, and the
//!   sampling (one row in `every`) once more than [`READABLE_PER_SEC`] match
//!   a second, so a browser is never flooded and the counts stay exact;
//! - `moved`: a device's new position (`DeviceMoved`);
//! - `overview`: every few seconds, the active-now counts and the top
//!   event types (`LiveCounts`), taken once per app for all its pages.
//!
//! Filters (query): `type` (repeated), `segment` (id), `text` (in `data`,
//! case-insensitive), `platform`. Deactivated users' events and another
//! app's never reach it.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use ::app::live::{LiveUpdate, APP_EVENT, MOVED, OVERVIEW, RATE};
use ::app::model::live::{LiveCounts, LiveEvent, LiveFilter};
use ::app::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::sse::Event;
use axum::response::Response;
use tokio::sync::{broadcast, mpsc};
use tower_sessions::Session;

use super::{caller, reconnect_hint, refuse, sse, too_many, CLIENT_QUEUE};

/// Rows a person can read a second; above it the stream samples.
pub const READABLE_PER_SEC: u64 = 20;
/// Events replayed per read, and at most in all, on (re)connect.
const REPLAY_PAGE: i64 = 500;
const REPLAY_MAX: usize = 2_000;

/// The stream's query: the page's filters and where to resume.
#[derive(Debug, Default)]
pub(super) struct StreamQuery {
    types: Vec<String>,
    segment: Option<i64>,
    text: Option<String>,
    platform: Option<String>,
    after: Option<i64>,
}

impl StreamQuery {
    /// Reads the query's pairs by hand: `Query`'s deserializer cannot take
    /// a repeated `type` (nor a single one) into a list.
    fn parse(query: Option<&str>) -> Result<StreamQuery, String> {
        let number = |key: &str, value: &str| match value.trim() {
            "" => Ok(None),
            v => v.parse().map(Some).map_err(|_| format!("`{key}` is not a number.")),
        };
        let mut parsed = StreamQuery::default();
        for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match &*key {
                "type" => parsed.types.push(value.into_owned()),
                "segment" => parsed.segment = number(&key, &value)?,
                "text" => parsed.text = Some(value.into_owned()),
                "platform" => parsed.platform = Some(value.into_owned()),
                "after" => parsed.after = number(&key, &value)?,
                _ => {}
            }
        }
        Ok(parsed)
    }

    fn filter(&self) -> LiveFilter {
        let nonempty = |v: &Option<String>| v.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(String::from);
        LiveFilter {
            types: self.types.iter().filter(|t| !t.is_empty()).cloned().collect(),
            segment: self.segment,
            text: nonempty(&self.text),
            platform: nonempty(&self.platform),
        }
    }
}

#[tracing::instrument(skip_all)]
pub(super) async fn app_stream(
    State(state): State<AppState>,
    session: Session,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = match StreamQuery::parse(query.as_deref()) {
        Ok(query) => query,
        Err(message) => return refuse(axum::http::StatusCode::BAD_REQUEST, &message),
    };
    let (account, app) = match caller(&state, &session).await {
        Ok(caller) => caller,
        Err(refused) => return refused,
    };
    let last_event_id = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
    let after = last_event_id.or(query.after);
    let limits = state.live.limits.clone();
    let first_page = if after.is_some() { REPLAY_PAGE as u32 } else { 0 };
    // The app's stream counts as a "profile" of its own (a negative key
    // no user id takes) in the account's cap.
    let slot = match limits.take_replay(account.id, first_page).and_then(|()| limits.open(account.id, -app.id)) {
        Ok(slot) => slot,
        Err(refused) => return too_many(refused),
    };
    let live = state.live.subscribe_app(app.id);
    let (queue, events) = mpsc::channel(CLIENT_QUEUE);
    let filter = query.filter();
    let (store, hub) = (state.store.clone(), state.live.clone());
    let account_id = account.id;
    tokio::spawn(async move {
        let _slot = slot;
        let mut stream = AppStream {
            limits,
            account_id,
            store,
            app_id: app.id,
            filter,
            queue,
            rate: Rate::default(),
            users_checked: HashMap::new(),
            replayed: HashSet::new(),
        };
        // The counts come first, then the fan-out's every few seconds.
        match stream.store.live_counts(app.id, ::app::time::now_ms()).await {
            Ok(counts) if !stream.send_counts(&counts).await => return,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "live app: cannot count the active users"),
        }
        if let Some(after) = after {
            if !stream.replay(after).await {
                return;
            }
        }
        stream.forward(live, hub).await;
    });
    sse(events)
}

/// Events matched in the current second, and how many were sent.
#[derive(Debug, Default)]
struct Rate {
    matched: u64,
    shown: u64,
    /// One row in `every` is sent this second (1: all, up to the cap).
    every: u64,
}

impl Rate {
    /// Whether the next matching event is sent.
    fn admit(&mut self) -> bool {
        self.matched += 1;
        let every = self.every.max(1);
        let send = (self.matched - 1).is_multiple_of(every) && self.shown < READABLE_PER_SEC;
        if send {
            self.shown += 1;
        }
        send
    }

    /// Ends the second: its figures, and the next second's sampling from
    /// this one's rate.
    fn tick(&mut self) -> Option<serde_json::Value> {
        let report = (self.matched > 0)
            .then(|| serde_json::json!({ "matched": self.matched, "shown": self.shown, "every": self.every.max(1) }));
        self.every = self.matched.div_ceil(READABLE_PER_SEC).max(1);
        self.matched = 0;
        self.shown = 0;
        report
    }
}

struct AppStream {
    /// The account's replay budget is charged a page before each read.
    limits: std::sync::Arc<::app::live::StreamLimits>,
    account_id: i64,
    store: ::app::store::Store,
    app_id: i64,
    filter: LiveFilter,
    queue: mpsc::Sender<Event>,
    rate: Rate,
    /// Whether users whose devices moved are active, as read at most
    /// [`ACTIVE_CHECKED_FOR`] ago (a deactivated user's device stays off
    /// the map without a read per move).
    users_checked: HashMap<i64, (bool, Instant)>,
    /// The ids the replay sent: an event committed after the subscription
    /// and before the replay's read is broadcast too, and sent once.
    replayed: HashSet<i64>,
}

/// How long a user's active flag is trusted for the map's moves.
const ACTIVE_CHECKED_FOR: Duration = Duration::from_secs(30);

impl AppStream {
    /// Sends the app's events after `after` (a reconnect's gap), up to
    /// [`REPLAY_MAX`]; false when the client went away.
    async fn replay(&mut self, mut after: i64) -> bool {
        let mut replayed = 0;
        while replayed < REPLAY_MAX {
            // The first page was charged when the stream opened; past the
            // budget the stream closes and the browser resumes later.
            if replayed > 0 {
                if let Err(refused) = self.limits.take_replay(self.account_id, REPLAY_PAGE as u32) {
                    tracing::info!(?refused, "live app: replay budget spent; closing the stream");
                    return false;
                }
            }
            let page = match self.store.live_events_after(self.app_id, after, REPLAY_PAGE).await {
                Ok(page) => page,
                Err(error) => {
                    tracing::warn!(%error, "live app: replay failed; the client retries");
                    return false;
                }
            };
            replayed += page.len();
            let full = page.len() as i64 == REPLAY_PAGE;
            if let Some(last) = page.last() {
                after = last.event.id;
            }
            for event in self.matching(&page).await {
                if !self.send_event(event).await {
                    return false;
                }
                self.replayed.insert(event.event.id);
            }
            if !full {
                break;
            }
        }
        true
    }

    async fn forward(&mut self, mut live: ::app::live::Subscription, hub: ::app::live::LiveHub) {
        let mut second = tokio::time::interval(Duration::from_secs(1));
        loop {
            let received = tokio::select! {
                received = live.updates.recv() => received,
                () = self.queue.closed() => return,
                () = hub.closed() => {
                    let _ = self.queue.send(reconnect_hint()).await;
                    return;
                }
                _ = second.tick() => {
                    if let Some(report) = self.rate.tick() {
                        if self.queue.send(Event::default().event(RATE).data(report.to_string())).await.is_err() {
                            return;
                        }
                    }
                    continue;
                }
            };
            match received {
                Ok(LiveUpdate::AppActivity(batch)) => {
                    // Every event is matched (the rate's counts are exact);
                    // only the admitted few are serialized.
                    let mine =
                        batch.iter().filter(|e| e.event.app_id == self.app_id && !self.replayed.contains(&e.event.id));
                    let matched = self.matching(mine).await;
                    for event in matched {
                        if self.rate.admit() && !self.send_event(event).await {
                            return;
                        }
                    }
                }
                Ok(LiveUpdate::Counts { app_id, counts }) if app_id == self.app_id => {
                    if !self.send_counts(&counts).await {
                        return;
                    }
                }
                Ok(LiveUpdate::Moved(moved)) if moved.app_id == self.app_id => {
                    if !self.user_is_active(moved.user_id).await {
                        continue;
                    }
                    let Ok(data) = serde_json::to_string(&moved) else { continue };
                    if self.queue.send(Event::default().event(MOVED).data(data)).await.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    metrics::counter!(::app::metrics::LIVE_STREAMS_LAGGED).increment(1);
                    tracing::info!(missed, "live app: a slow stream fell behind; closing it (it resumes)");
                    return;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    /// `events` that pass the filters (active users only).
    async fn matching<'e>(&self, events: impl IntoIterator<Item = &'e LiveEvent>) -> Vec<&'e LiveEvent> {
        match ::app::live_page::service::matching(&self.store, &self.filter, events).await {
            Ok(kept) => kept,
            Err(error) => {
                tracing::warn!(%error, "live app: cannot read segment members");
                Vec::new()
            }
        }
    }

    /// Whether `user_id` (a moved device's) is an active user of the app.
    async fn user_is_active(&mut self, user_id: i64) -> bool {
        if let Some((active, at)) = self.users_checked.get(&user_id) {
            if at.elapsed() < ACTIVE_CHECKED_FOR {
                return *active;
            }
        }
        let active = match self.store.user_by_id(self.app_id, user_id).await {
            Ok(user) => user.is_some_and(|u| u.active),
            Err(error) => {
                tracing::warn!(%error, "live app: cannot read a moved device's user");
                return false;
            }
        };
        if self.users_checked.len() > 10_000 {
            self.users_checked.clear();
        }
        self.users_checked.insert(user_id, (active, Instant::now()));
        active
    }

    async fn send_counts(&self, counts: &LiveCounts) -> bool {
        let Ok(data) = serde_json::to_string(counts) else { return true };
        self.queue.send(Event::default().event(OVERVIEW).data(data)).await.is_ok()
    }

    async fn send_event(&self, event: &LiveEvent) -> bool {
        let Ok(data) = serde_json::to_string(event) else { return true };
        let sse = Event::default().event(APP_EVENT).id(event.event.id.to_string()).data(data);
        self.queue.send(sse).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_past_the_readable_rate_is_sampled_and_counted_exactly() {
        let mut rate = Rate::default();
        let sent = (0..10).filter(|_| rate.admit()).count();
        assert_eq!(sent, 10, "a readable rate is sent whole");
        assert_eq!(rate.tick(), Some(serde_json::json!({"matched": 10, "shown": 10, "every": 1})));
        let sent = (0..1000).filter(|_| rate.admit()).count();
        assert_eq!(sent as u64, READABLE_PER_SEC, "never more rows than a person reads");
        let report = rate.tick().unwrap();
        assert_eq!(report["matched"], 1000);
        assert_eq!(rate.every, 50, "the next second samples one in 1000 / 20");
        let sent = (0..1000).filter(|_| rate.admit()).count();
        assert_eq!(sent, 20);
        assert_eq!(rate.tick().unwrap(), serde_json::json!({"matched": 1000, "shown": 20, "every": 50}));
        assert_eq!(rate.tick(), None, "a quiet second says nothing");
        assert_eq!(rate.every, 1);
    }
}
