//! The live channel's server side: committed events and device moves
//! fanned out to every open stream of this instance. The profile's boxes
//! (activity, the maps; messages next) subscribe to the one broadcast.
//!
//! Where the ids come from: on SQLite (one instance) the ingest route hands
//! them over in-process after commit; on PostgreSQL the ingest transaction
//! itself NOTIFYs them (delivered at commit, never for a rollback) and each
//! instance LISTENs, so an event ingested on one instance reaches viewers on
//! all. Either way the fan-out task reads the rows and broadcasts them —
//! only the rows of users whose profile has a stream open on this instance
//! ([`Subscription`]): an ingest nobody watches is not read back at all
//! (under ingest that read was about 15 % of PostgreSQL's statement time).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sqlx::postgres::PgListener;
use tokio::sync::{broadcast, mpsc, watch};

use super::limits::StreamLimits;
use crate::model::activity::ActivityEvent;
use crate::model::devices::DeviceMoved;
use crate::model::live::LiveEvent;
use crate::store::{Store, StoreResult, StoredIds, MESSAGES_PREFIX, MOVED_PREFIX};

/// Batches the broadcast holds for a slow stream before it lags (and is
/// dropped, to resume from the database by `Last-Event-ID`).
const FANOUT_CAPACITY: usize = 1024;
/// Events read back at most per catch-up after the listener reconnected.
const CATCH_UP: i64 = 10_000;
/// Past this many watched users the fan-out reads a commit's events of
/// everyone (one statement) instead of naming the users.
const MAX_NAMED_USERS: usize = 256;

/// One committed change, as every stream sees it.
#[derive(Debug, Clone)]
pub enum LiveUpdate {
    /// A batch of events.
    Activity(Arc<[ActivityEvent]>),
    /// A device's new last position.
    Moved(DeviceMoved),
    /// The user's private messages changed (a new one, a delivery).
    Messages { app_id: i64, user_id: i64 },
    /// A batch of events of the apps with a Live page open (deactivated
    /// users' marked), for the app-wide streams.
    AppActivity(Arc<[LiveEvent]>),
}

/// What a commit hands to the fan-out task (SQLite, in-process).
#[derive(Debug, Clone)]
enum Committed {
    Events(StoredIds),
    Moved(i64),
    Messages { app_id: i64, user_id: i64 },
}

/// Cheap to clone; held in `AppState`.
#[derive(Clone)]
pub struct LiveHub {
    fanout: broadcast::Sender<LiveUpdate>,
    /// SQLite: committed changes go to the fan-out task in-process.
    local: Option<mpsc::UnboundedSender<(Committed, Instant)>>,
    watched: Arc<Watched>,
    /// Apps with a Live page open on this instance.
    watched_apps: Arc<Watched>,
    /// Each account's open streams and replay budget.
    pub limits: Arc<StreamLimits>,
    /// PostgreSQL: whether the LISTEN connection is up (always true on SQLite).
    listening: Arc<AtomicBool>,
    /// Turns true when the instance shuts down: every stream ends, telling
    /// its browser to reconnect (to another instance).
    closing: watch::Sender<bool>,
}

/// Open streams per user id (ids are unique across apps), or per app id,
/// on this instance.
#[derive(Default)]
struct Watched(Mutex<HashMap<i64, usize>>);

impl Watched {
    fn streams(&self) -> std::sync::MutexGuard<'_, HashMap<i64, usize>> {
        // Each change is one insert or remove: consistent after a panic.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The users whose events the fan-out reads: `Some(empty)` when no
    /// stream is open, `None` for everyone (too many to name).
    fn users(&self) -> Option<Vec<i64>> {
        let streams = self.streams();
        (streams.len() <= MAX_NAMED_USERS).then(|| streams.keys().copied().collect())
    }

    /// Every id watched (apps are few).
    fn all(&self) -> Vec<i64> {
        self.streams().keys().copied().collect()
    }

    fn add(&self, id: i64) {
        *self.streams().entry(id).or_default() += 1;
    }

    fn remove(&self, id: i64) {
        let mut streams = self.streams();
        if let Some(open) = streams.get_mut(&id) {
            *open -= 1;
            if *open == 0 {
                streams.remove(&id);
            }
        }
    }
}

/// One open stream's view of the live channel: every update committed
/// from now on, with the events of its user among them. Dropping it tells
/// the fan-out to stop reading that user's events (if no other stream
/// shows the user).
pub struct Subscription {
    pub updates: broadcast::Receiver<LiveUpdate>,
    /// The user's id, or the app's for an app-wide stream.
    watching: i64,
    watched: Arc<Watched>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.watched.remove(self.watching);
    }
}

impl LiveHub {
    /// Starts the fan-out task for `store` (a LISTEN connection on PostgreSQL).
    pub async fn start(store: Store) -> StoreResult<LiveHub> {
        let (fanout, _) = broadcast::channel(FANOUT_CAPACITY);
        let watched = Arc::new(Watched::default());
        let watched_apps = Arc::new(Watched::default());
        let out = FanOut {
            store: store.clone(),
            fanout: fanout.clone(),
            watched: watched.clone(),
            watched_apps: watched_apps.clone(),
        };
        let listening = Arc::new(AtomicBool::new(true));
        let local = match store.event_listener().await? {
            Some((listener, channel)) => {
                tokio::spawn(listen(listener, channel, out, listening.clone()));
                None
            }
            None => {
                let (sender, receiver) = mpsc::unbounded_channel();
                tokio::spawn(fan_out_local(receiver, out));
                Some(sender)
            }
        };
        let (closing, _) = watch::channel(false);
        Ok(LiveHub { fanout, local, watched, watched_apps, limits: Arc::default(), listening, closing })
    }

    /// Whether committed changes reach this instance: on PostgreSQL, its
    /// LISTEN connection is up (the readiness check asks).
    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Relaxed)
    }

    /// Ends every stream of this instance (shutdown): each sends its
    /// browser a reconnect hint first. Streams opened later end at once.
    pub fn close_streams(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves when the instance is shutting down (at once if it is).
    pub async fn closed(&self) {
        let mut closing = self.closing.subscribe();
        // An error means the hub is gone: the process is ending anyway.
        let _ = closing.wait_for(|closing| *closing).await;
    }

    /// Call after the events `stored` are committed. On PostgreSQL their
    /// transaction has already notified every instance.
    pub fn committed(&self, stored: &StoredIds) {
        if let (Some(local), false) = (&self.local, matches!(stored, StoredIds::None)) {
            // The receiver lives as long as the runtime.
            let _ = local.send((Committed::Events(stored.clone()), Instant::now()));
        }
    }

    /// Call after a device's new last position is committed
    /// (`Store::add_locations` returned `true`).
    pub fn moved(&self, device_id: i64) {
        if let Some(local) = &self.local {
            let _ = local.send((Committed::Moved(device_id), Instant::now()));
        }
    }

    /// Call after a change to a user's messages is committed (on
    /// PostgreSQL its transaction has notified every instance).
    pub fn messages_changed(&self, app_id: i64, user_id: i64) {
        if let Some(local) = &self.local {
            let _ = local.send((Committed::Messages { app_id, user_id }, Instant::now()));
        }
    }

    /// A stream of `user_id`'s profile: every change committed from now
    /// on, that user's events included until the subscription is dropped.
    pub fn subscribe(&self, user_id: i64) -> Subscription {
        // Watched before subscribed: a commit the stream receives is read
        // with this user's events.
        self.watched.add(user_id);
        Subscription { updates: self.fanout.subscribe(), watching: user_id, watched: self.watched.clone() }
    }

    /// A Live page's stream of the app: every change committed from now on,
    /// with the app's events ([`LiveUpdate::AppActivity`]) until dropped.
    pub fn subscribe_app(&self, app_id: i64) -> Subscription {
        self.watched_apps.add(app_id);
        Subscription { updates: self.fanout.subscribe(), watching: app_id, watched: self.watched_apps.clone() }
    }

    /// Users with a stream open on this instance.
    pub fn watched_users(&self) -> usize {
        self.watched.streams().len()
    }
}

/// What the fan-out task reads from and sends to.
struct FanOut {
    store: Store,
    fanout: broadcast::Sender<LiveUpdate>,
    watched: Arc<Watched>,
    watched_apps: Arc<Watched>,
}

impl FanOut {
    /// Reads the device's position and broadcasts it.
    async fn moved(&self, device_id: i64) {
        match self.store.device_moved(device_id).await {
            Ok(Some(moved)) => {
                let _ = self.fanout.send(LiveUpdate::Moved(moved));
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "live: cannot read a device's position"),
        }
    }

    /// Reads the watched users' rows among `ids` and broadcasts them;
    /// returns the newest id of `ids` (read or not).
    async fn events(&self, ids: &StoredIds, arrived: Instant) -> Option<i64> {
        let newest = ids.newest();
        let apps = self.watched_apps.all();
        if !apps.is_empty() {
            match self.store.live_events_stored(ids, &apps).await {
                Ok(events) if !events.is_empty() => {
                    let _ = self.fanout.send(LiveUpdate::AppActivity(Arc::from(events)));
                    metrics::histogram!(crate::metrics::LIVE_FANOUT_DELAY).record(arrived.elapsed());
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "live: cannot read committed events of the watched apps"),
            }
        }
        let users = self.watched.users();
        if users.as_ref().is_some_and(Vec::is_empty) {
            return newest;
        }
        match self.store.stored_events(ids, users.as_deref()).await {
            Ok(events) if !events.is_empty() => {
                // No stream open (any more) is fine.
                let _ = self.fanout.send(LiveUpdate::Activity(Arc::from(events)));
                metrics::histogram!(crate::metrics::LIVE_FANOUT_DELAY).record(arrived.elapsed());
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "live: cannot read committed events"),
        }
        newest
    }
}

async fn fan_out_local(mut receiver: mpsc::UnboundedReceiver<(Committed, Instant)>, out: FanOut) {
    while let Some((committed, arrived)) = receiver.recv().await {
        match committed {
            Committed::Events(ids) => {
                out.events(&ids, arrived).await;
            }
            Committed::Moved(device_id) => out.moved(device_id).await,
            Committed::Messages { app_id, user_id } => {
                let _ = out.fanout.send(LiveUpdate::Messages { app_id, user_id });
            }
        }
    }
}

/// PostgreSQL: every notification's ids, read and broadcast. When the
/// connection drops (a database restart), listens again as soon as it can,
/// then catches up on the events committed meanwhile (ids after the newest
/// one broadcast), whose notifications were lost.
async fn listen(mut listener: PgListener, channel: String, out: FanOut, listening: Arc<AtomicBool>) {
    let mut newest = out.store.last_event_id().await.unwrap_or(0);
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                let arrived = Instant::now();
                if let Some(whose) = notification.payload().strip_prefix(MESSAGES_PREFIX) {
                    if let Some((Ok(app_id), Ok(user_id))) =
                        whose.split_once(':').map(|(a, u)| (a.parse::<i64>(), u.parse::<i64>()))
                    {
                        let _ = out.fanout.send(LiveUpdate::Messages { app_id, user_id });
                    }
                    continue;
                }
                if let Some(device) = notification.payload().strip_prefix(MOVED_PREFIX) {
                    if let Ok(device_id) = device.parse() {
                        out.moved(device_id).await;
                    }
                    continue;
                }
                let ids: Vec<i64> = notification.payload().split(',').filter_map(|id| id.parse().ok()).collect();
                if let Some(id) = out.events(&StoredIds::List(ids), arrived).await {
                    newest = newest.max(id);
                }
                continue;
            }
            // The instance is stopping: nothing more to fan out.
            _ if out.store.is_closed() => return,
            Ok(None) => tracing::warn!("live: the LISTEN connection was lost; reconnecting"),
            Err(error) => tracing::warn!(%error, "live: LISTEN failed; reconnecting"),
        }
        listening.store(false, Ordering::Relaxed);
        // Listen again first, then catch up: nothing committed in between is missed.
        while let Err(error) = listener.listen(&channel).await {
            tracing::debug!(%error, "live: database not back yet");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        listening.store(true, Ordering::Relaxed);
        loop {
            match out.store.event_ids_after(newest, CATCH_UP).await {
                Ok(ids) if ids.is_empty() => break,
                Ok(ids) => {
                    let more = ids.len() as i64 == CATCH_UP;
                    if let Some(id) = out.events(&StoredIds::List(ids), Instant::now()).await {
                        newest = newest.max(id);
                    }
                    if !more {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "live: catch-up failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        tracing::info!(newest, "live: listening again");
    }
}
