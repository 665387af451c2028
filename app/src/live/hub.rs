//! The live channel's server side: committed events, device moves and
//! each watched app's counts fanned out to every open stream of this
//! instance (the fan-out task itself is `fanout`). The profile's boxes and
//! the Live pages subscribe to the one broadcast; only the rows a stream
//! open on this instance shows are read back ([`Subscription`]): an ingest
//! nobody watches is not read back at all.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{broadcast, mpsc, watch};

use super::fanout::{self, broadcast_viewers, CommitQueue, Committed, FanOut, LiveUpdate, Watched};
use super::limits::StreamLimits;
use super::presence::{OwnTabs, PresenceBook, PresenceNote, Tab};
use crate::model::profile::{BoxChanged, Viewer};
use crate::store::{Store, StoreResult, StoredIds};

/// Batches the broadcast holds for a slow stream before it lags (and is
/// dropped, to resume from the database by `Last-Event-ID`).
const FANOUT_CAPACITY: usize = 1024;

/// Cheap to clone; held in `AppState`.
#[derive(Clone)]
pub struct LiveHub {
    fanout: broadcast::Sender<LiveUpdate>,
    /// SQLite: committed changes go to the fan-out task in-process.
    local: Option<CommitQueue>,
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
    presence: Presence,
}

/// Who has which profile open (see `presence`): every instance's tabs, and
/// this instance's own, which it announces.
#[derive(Clone)]
struct Presence {
    store: Store,
    book: Arc<PresenceBook>,
    own: Arc<OwnTabs>,
    /// This instance's number in presence notes (random at start).
    instance: u64,
    next_stream: Arc<AtomicU64>,
}

/// An open profile's place in the presence book: dropping it (the stream
/// ended) withdraws the tab on every instance.
pub struct OpenTab {
    presence: Presence,
    fanout: broadcast::Sender<LiveUpdate>,
    tab: Tab,
}

impl Drop for OpenTab {
    fn drop(&mut self) {
        self.presence.own.close(self.tab.stream);
        let note = PresenceNote { instance: self.presence.instance, open: false, tabs: vec![self.tab.clone()] };
        self.presence.publish(&self.fanout, note);
    }
}

impl Presence {
    /// Applies `note` here and sends it to the other instances.
    fn publish(&self, fanout: &broadcast::Sender<LiveUpdate>, note: PresenceNote) {
        broadcast_viewers(fanout, self.book.apply(&note, Instant::now()));
        if self.store.is_postgres() {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let store = self.store.clone();
                runtime.spawn(async move { fanout::announce(&store, &note).await });
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
        let (broadcast, _) = broadcast::channel(FANOUT_CAPACITY);
        let watched = Arc::new(Watched::default());
        let watched_apps = Arc::new(Watched::default());
        let presence = Presence {
            store: store.clone(),
            book: Arc::default(),
            own: Arc::default(),
            instance: rand::random(),
            next_stream: Arc::default(),
        };
        let out = FanOut {
            store: store.clone(),
            fanout: broadcast.clone(),
            watched: watched.clone(),
            watched_apps: watched_apps.clone(),
            presence: presence.book.clone(),
            instance: presence.instance,
        };
        let listening = Arc::new(AtomicBool::new(true));
        let (queue, commits) = mpsc::unbounded_channel();
        let local = match store.event_listener().await? {
            Some((listener, channel)) => {
                tokio::spawn(fanout::listen(listener, channel, store.clone(), queue, listening.clone()));
                None
            }
            None => Some(queue),
        };
        tokio::spawn(fanout::count_watched_apps(store.clone(), broadcast.clone(), watched_apps.clone()));
        tokio::spawn(fanout::keep_presence(
            store.clone(),
            broadcast.clone(),
            presence.book.clone(),
            presence.own.clone(),
            presence.instance,
        ));
        tokio::spawn(fanout::run(commits, out));
        let (closing, _) = watch::channel(false);
        Ok(LiveHub {
            fanout: broadcast,
            local,
            watched,
            watched_apps,
            limits: Arc::default(),
            listening,
            closing,
            presence,
        })
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

    /// Call after a change to one of a user's profile boxes is committed
    /// (on PostgreSQL its transaction has notified every instance).
    pub fn changed(&self, what: BoxChanged, app_id: i64, user_id: i64) {
        if let Some(local) = &self.local {
            let _ = local.send((Committed::Changed { what, app_id, user_id }, Instant::now()));
        }
    }

    /// `viewer` opened the profile of `profile`: announced on every
    /// instance until the returned tab is dropped.
    pub fn open_tab(&self, app_id: i64, profile: i64, viewer: Viewer) -> OpenTab {
        let stream = self.presence.next_stream.fetch_add(1, Ordering::Relaxed);
        let tab = Tab { stream, app_id, profile, viewer };
        self.presence.own.open(tab.clone());
        let note = PresenceNote { instance: self.presence.instance, open: true, tabs: vec![tab.clone()] };
        self.presence.publish(&self.fanout, note);
        OpenTab { presence: self.presence.clone(), fanout: self.fanout.clone(), tab }
    }

    /// The accounts with the profile of `profile` open, on any instance.
    pub fn viewers(&self, profile: i64) -> Vec<Viewer> {
        self.presence.book.viewers(profile)
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
