//! `GET /api/live/users/{id}`: one profile's live stream: `activity` (the
//! user's events), `moved` (a device's new position; the profile map and
//! the device page follow it), `messages` and `notes` (that box changed),
//! and `presence` (the other accounts with the profile open, first on
//! opening, then on each change; the stream itself is this account's tab).
//!
//! A stream first replays, from the database, the user's events after
//! `Last-Event-ID` (or `?after=`, which the page sets to the newest id it
//! was rendered with), then forwards live ones; events both replayed and
//! broadcast are sent once. Each SSE `id` is the event's id (the highest
//! sent so far, should a later-committed event carry a lower id, so that
//! a resume never repeats one). A stream that falls [`FANOUT_CAPACITY`]
//! batches behind is closed rather than slowing ingest down; the browser
//! reconnects with `Last-Event-ID` and replays what it missed.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use ::app::activity::model::ActivityEvent;
use ::app::live::{LiveHub, LiveUpdate, OpenTab, StreamLimits, StreamSlot, Subscription, ACTIVITY, MOVED, PRESENCE};
use ::app::model::profile::Viewer;
use ::app::state::AppState;
use ::app::store::Store;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::Event;
use axum::response::Response;
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};
use tower_sessions::Session;

use super::{caller, reconnect_hint, refuse, sse, too_many, unavailable, CLIENT_QUEUE};

/// Events replayed per database read while catching up.
const REPLAY_PAGE: i64 = 500;
/// Events replayed at most on (re)connect: a stream that missed more (days
/// offline, a forged id) starts live after the newest of them; the page
/// reloads its boxes for the rest.
const REPLAY_MAX: usize = 5_000;
/// Ids remembered per stream to send each event once.
const REMEMBERED: usize = 4096;

#[derive(Deserialize)]
pub(super) struct Resume {
    after: Option<i64>,
}

#[tracing::instrument(skip_all, fields(user_id))]
pub(super) async fn user_stream(
    State(state): State<AppState>,
    session: Session,
    Path(user_id): Path<i64>,
    Query(resume): Query<Resume>,
    headers: HeaderMap,
) -> Response {
    let (account, app) = match caller(&state, &session).await {
        Ok(caller) => caller,
        Err(refused) => return refused,
    };
    match state.store.user_by_id(app.id, user_id).await {
        Ok(Some(_)) => {}
        Ok(None) => return refuse(StatusCode::NOT_FOUND, "There is no such user in this app."),
        Err(_) => return unavailable(),
    }
    let last_event_id = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
    let after = last_event_id.or(resume.after).unwrap_or(i64::MAX);
    // A replay is charged a page at a time before it is read, the first
    // page here: a reconnect loop is refused before it reads anything.
    let limits = state.live.limits.clone();
    let first_page = if after == i64::MAX { 0 } else { REPLAY_PAGE as u32 };
    let slot = match limits.take_replay(account.id, first_page).and_then(|()| limits.open(account.id, user_id)) {
        Ok(slot) => slot,
        Err(refused) => return too_many(refused),
    };
    let viewed = app::model::profile::Viewed::Live;
    if let Err(error) = app::auth::reads::record_view(&state.store, app.id, user_id, &account, viewed).await {
        tracing::warn!(%error, "live: cannot write the access log; refusing the stream");
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "The database is not available; retrying.");
    }
    // Subscribe before replaying: nothing committed in between is missed.
    let live = state.live.subscribe(user_id);
    let viewer = Viewer { account_id: account.id, email: account.email.clone(), role: account.role.as_str().into() };
    let tab = state.live.open_tab(app.id, user_id, viewer);
    let (queue, events) = mpsc::channel(CLIENT_QUEUE);
    let stream = OpenStream {
        store: state.store.clone(),
        hub: state.live.clone(),
        app_id: app.id,
        user_id,
        account: account.id,
        limits,
        _slot: slot,
        _tab: tab,
    };
    tokio::spawn(forward(stream, after, live, queue));
    sse(events)
}

/// What one stream has sent: each id once, and the highest.
struct Sent {
    ids: HashSet<i64>,
    order: VecDeque<i64>,
    highest: i64,
}

impl Sent {
    /// The SSE event for `event`, unless it was sent already.
    fn first_time(&mut self, event: &ActivityEvent) -> Option<Event> {
        if !self.ids.insert(event.id) {
            return None;
        }
        self.order.push_back(event.id);
        if self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
        self.highest = self.highest.max(event.id);
        let data = serde_json::to_string(event).ok()?;
        Some(Event::default().event(ACTIVITY).id(self.highest.to_string()).data(data))
    }
}

/// One open stream: whose, of whom, and its place in the account's count
/// (given back when the stream's task ends, i.e. when the client goes).
struct OpenStream {
    store: Store,
    /// Its end tells the stream to close (shutdown).
    hub: LiveHub,
    app_id: i64,
    user_id: i64,
    account: i64,
    limits: Arc<StreamLimits>,
    /// Held, never read: dropping it frees the slot.
    _slot: StreamSlot,
    /// Held, never read: dropping it withdraws the account's tab.
    _tab: OpenTab,
}

/// What one stream last said of the other accounts on the profile.
struct Others {
    account: i64,
    sent: Option<Vec<Viewer>>,
}

impl Others {
    /// The SSE event naming the accounts other than the stream's own,
    /// unless it says what the last one said.
    fn event(&mut self, viewers: &[Viewer]) -> Option<Event> {
        let others: Vec<Viewer> = viewers.iter().filter(|v| v.account_id != self.account).cloned().collect();
        if self.sent.as_ref() == Some(&others) {
            return None;
        }
        let data = serde_json::to_string(&others).ok()?;
        self.sent = Some(others);
        Some(Event::default().event(PRESENCE).data(data))
    }
}

/// Replays the user's events after `after`, then forwards the live ones,
/// until the client goes away or falls too far behind.
async fn forward(stream: OpenStream, after: i64, mut live: Subscription, queue: mpsc::Sender<Event>) {
    let OpenStream { ref store, app_id, user_id, .. } = stream;
    let mut sent = Sent { ids: HashSet::new(), order: VecDeque::new(), highest: 0 };
    let mut others = Others { account: stream.account, sent: None };
    if let Some(event) = others.event(&stream.hub.viewers(user_id)) {
        if queue.send(event).await.is_err() {
            return;
        }
    }
    // `after` absent (i64::MAX): live events only.
    let mut cursor = after;
    let mut replayed = 0;
    while cursor != i64::MAX && replayed < REPLAY_MAX {
        // Past the account's budget the stream closes, and the browser
        // resumes from what it has once the budget allows.
        if replayed > 0 {
            if let Err(refused) = stream.limits.take_replay(stream.account, REPLAY_PAGE as u32) {
                tracing::info!(?refused, "live: replay budget spent; closing the stream");
                return;
            }
        }
        let page = match store.user_events_after(app_id, user_id, cursor, REPLAY_PAGE).await {
            Ok(page) => page,
            Err(error) => {
                tracing::warn!(%error, "live: replay failed; closing the stream for the client to retry");
                return;
            }
        };
        replayed += page.len();
        for event in &page {
            cursor = event.id;
            if let Some(sse) = sent.first_time(event) {
                if queue.send(sse).await.is_err() {
                    return;
                }
            }
        }
        if (page.len() as i64) < REPLAY_PAGE {
            break;
        }
    }
    loop {
        let received = tokio::select! {
            received = live.updates.recv() => received,
            // The client went away while nothing happened to this user.
            () = queue.closed() => return,
            () = stream.hub.closed() => {
                let _ = queue.send(reconnect_hint()).await;
                return;
            }
        };
        let batch = match received {
            Ok(LiveUpdate::Activity(batch)) => batch,
            Ok(LiveUpdate::Moved(moved)) => {
                if moved.user_id == user_id && moved.app_id == app_id {
                    let Ok(data) = serde_json::to_string(&moved) else { continue };
                    // No id: a resume stays keyed on event ids.
                    if queue.send(Event::default().event(MOVED).data(data)).await.is_err() {
                        return;
                    }
                }
                continue;
            }
            Ok(LiveUpdate::Changed { what, app_id: app, user_id: user }) => {
                if user == user_id && app == app_id {
                    let data = serde_json::json!({ "user_id": user }).to_string();
                    if queue.send(Event::default().event(what.name()).data(data)).await.is_err() {
                        return;
                    }
                }
                continue;
            }
            Ok(LiveUpdate::Presence { app_id: app, profile, viewers }) => {
                if profile == user_id && app == app_id {
                    if let Some(event) = others.event(&viewers) {
                        if queue.send(event).await.is_err() {
                            return;
                        }
                    }
                }
                continue;
            }
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                metrics::counter!(app::metrics::LIVE_STREAMS_LAGGED).increment(1);
                tracing::info!(missed, "live: a slow stream fell behind; closing it (it resumes by Last-Event-ID)");
                return;
            }
            Ok(LiveUpdate::AppActivity(_) | LiveUpdate::Counts { .. }) => continue,
            Err(broadcast::error::RecvError::Closed) => return,
        };
        for event in batch.iter().filter(|e| e.user_id == Some(user_id) && e.app_id == app_id) {
            if let Some(sse) = sent.first_time(event) {
                if queue.send(sse).await.is_err() {
                    return;
                }
            }
        }
    }
}
