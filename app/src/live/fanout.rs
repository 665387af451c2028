//! The fan-out task behind [`super::LiveHub`]: reads what commits stored
//! and broadcasts it to every stream of this instance.
//!
//! Commits reach it through one queue: on SQLite the ingest routes send
//! to it in-process after commit; on PostgreSQL a listener task turns each
//! NOTIFY (sent by the ingest transaction itself, delivered at commit and
//! never for a rollback) into the same message. The task reads every
//! commit queued since its last read in one statement: under load it
//! makes fewer, larger reads instead of falling behind one read per
//! commit, and the streams never wait on each other.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sqlx::postgres::PgListener;
use tokio::sync::{broadcast, mpsc};

use super::presence::{OwnTabs, PresenceBook, PresenceNote, ViewersChanged, ANNOUNCE_EVERY, SWEEP_EVERY};
use crate::model::activity::ActivityEvent;
use crate::model::devices::DeviceMoved;
use crate::model::live::{LiveCounts, LiveEvent};
use crate::model::profile::{BoxChanged, Viewer};
use crate::store::{Store, StoredIds, MOVED_PREFIX};

/// Past this many watched users the fan-out reads a commit's events of
/// everyone (one statement) instead of naming the users.
const MAX_NAMED_USERS: usize = 256;
/// Events read back at most per read (the commits merged into it).
const MERGED_READ: usize = 5_000;
/// Events read back at most per catch-up after the listener reconnected.
const CATCH_UP: i64 = 10_000;
/// How often each watched app's counts are taken and broadcast.
pub const COUNTS_EVERY: Duration = Duration::from_secs(5);

/// One committed change, as every stream sees it.
#[derive(Debug, Clone)]
pub enum LiveUpdate {
    /// A batch of events.
    Activity(Arc<[ActivityEvent]>),
    /// A device's new last position.
    Moved(DeviceMoved),
    /// One of the user's profile boxes changed (its readers reload).
    Changed { what: BoxChanged, app_id: i64, user_id: i64 },
    /// The accounts with the profile of `profile` open changed.
    Presence { app_id: i64, profile: i64, viewers: Arc<[Viewer]> },
    /// A batch of events of the apps with a Live page open (deactivated
    /// users' marked), for the app-wide streams.
    AppActivity(Arc<[LiveEvent]>),
    /// An app's active users and top event types, taken once for all its
    /// Live pages on this instance.
    Counts { app_id: i64, counts: Arc<LiveCounts> },
}

/// Open streams per user id (ids are unique across apps), or per app id,
/// on this instance.
#[derive(Default)]
pub(super) struct Watched(Mutex<HashMap<i64, usize>>);

impl Watched {
    pub(super) fn streams(&self) -> std::sync::MutexGuard<'_, HashMap<i64, usize>> {
        // Each change is one insert or remove: consistent after a panic.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The users whose events the fan-out reads: `Some(empty)` when no
    /// stream is open, `None` for everyone (too many to name).
    pub(super) fn users(&self) -> Option<Vec<i64>> {
        let streams = self.streams();
        (streams.len() <= MAX_NAMED_USERS).then(|| streams.keys().copied().collect())
    }

    /// Every id watched (apps are few).
    pub(super) fn all(&self) -> Vec<i64> {
        self.streams().keys().copied().collect()
    }

    pub(super) fn add(&self, id: i64) {
        *self.streams().entry(id).or_default() += 1;
    }

    pub(super) fn remove(&self, id: i64) {
        let mut streams = self.streams();
        if let Some(open) = streams.get_mut(&id) {
            *open -= 1;
            if *open == 0 {
                streams.remove(&id);
            }
        }
    }
}

/// What a commit hands to the fan-out task.
#[derive(Debug, Clone)]
pub(super) enum Committed {
    Events(StoredIds),
    Moved(i64),
    Changed {
        what: BoxChanged,
        app_id: i64,
        user_id: i64,
    },
    /// Another instance's tabs opened or closed (PostgreSQL).
    Presence(PresenceNote),
}

pub(super) type CommitQueue = mpsc::UnboundedSender<(Committed, Instant)>;

/// What the fan-out task reads from and sends to.
pub(super) struct FanOut {
    pub store: Store,
    pub fanout: broadcast::Sender<LiveUpdate>,
    pub watched: Arc<Watched>,
    pub watched_apps: Arc<Watched>,
    pub presence: Arc<PresenceBook>,
    /// This instance's number in presence notes (its own come back from
    /// NOTIFY, and are already applied).
    pub instance: u64,
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

    /// Reads the rows among `ids` that a stream shows (the watched apps'
    /// for the Live pages, the watched users' for the profiles; none when
    /// nobody watches) and broadcasts them.
    async fn events(&self, ids: &StoredIds, arrived: Instant) {
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
            return;
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
    }
}

/// The fan-out task: takes a commit, merges the commits queued behind it
/// (up to [`MERGED_READ`] events), reads and broadcasts them.
pub(super) async fn run(mut queue: mpsc::UnboundedReceiver<(Committed, Instant)>, out: FanOut) {
    while let Some(first) = queue.recv().await {
        let mut events = StoredIds::None;
        let mut oldest: Option<Instant> = None;
        let mut next = Some(first);
        while let Some((committed, arrived)) = next.take() {
            match committed {
                Committed::Events(ids) => {
                    events = events.merge(ids);
                    oldest.get_or_insert(arrived);
                }
                Committed::Moved(device_id) => out.moved(device_id).await,
                Committed::Changed { what, app_id, user_id } => {
                    let _ = out.fanout.send(LiveUpdate::Changed { what, app_id, user_id });
                }
                Committed::Presence(note) => {
                    if note.instance != out.instance {
                        broadcast_viewers(&out.fanout, out.presence.apply(&note, Instant::now()));
                    }
                }
            }
            if events.len() < MERGED_READ {
                next = queue.try_recv().ok();
            }
        }
        if let Some(arrived) = oldest {
            out.events(&events, arrived).await;
        }
    }
}

/// PostgreSQL: every notification, onto the fan-out's queue. When the
/// connection drops (a database restart), listens again as soon as it can,
/// then catches up on the events committed meanwhile (ids after the newest
/// one notified), whose notifications were lost.
pub(super) async fn listen(
    mut listener: PgListener,
    channel: String,
    store: Store,
    queue: CommitQueue,
    listening: Arc<AtomicBool>,
) {
    let mut newest = store.last_event_id().await.unwrap_or(0);
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                let committed = parse(notification.payload());
                if let Some(Committed::Events(ids)) = &committed {
                    newest = newest.max(ids.newest().unwrap_or(0));
                }
                if let Some(committed) = committed {
                    // The fan-out task lives as long as the runtime.
                    let _ = queue.send((committed, Instant::now()));
                }
                continue;
            }
            // The instance is stopping: nothing more to fan out.
            _ if store.is_closed() => return,
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
            match store.event_ids_after(newest, CATCH_UP).await {
                Ok(ids) if ids.is_empty() => break,
                Ok(ids) => {
                    let more = ids.len() as i64 == CATCH_UP;
                    let ids = StoredIds::List(ids);
                    newest = newest.max(ids.newest().unwrap_or(0));
                    let _ = queue.send((Committed::Events(ids), Instant::now()));
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

/// A notification's payload: `<box>:app:user` (a [`BoxChanged`]'s name),
/// a presence note, `MOVED_PREFIX device`, or event ids separated by
/// commas.
fn parse(payload: &str) -> Option<Committed> {
    if let Some(note) = PresenceNote::parse(payload) {
        return Some(Committed::Presence(note));
    }
    for what in BoxChanged::ALL {
        if let Some(whose) = payload.strip_prefix(what.name()).and_then(|rest| rest.strip_prefix(':')) {
            let (app, user) = whose.split_once(':')?;
            return Some(Committed::Changed { what, app_id: app.parse().ok()?, user_id: user.parse().ok()? });
        }
    }
    if let Some(device) = payload.strip_prefix(MOVED_PREFIX) {
        return device.parse().ok().map(Committed::Moved);
    }
    Some(Committed::Events(StoredIds::List(payload.split(',').filter_map(|id| id.parse().ok()).collect())))
}

/// Tells the streams of each profile whose viewers changed.
pub(super) fn broadcast_viewers(fanout: &broadcast::Sender<LiveUpdate>, changes: Vec<ViewersChanged>) {
    for ViewersChanged { app_id, profile, viewers } in changes {
        let _ = fanout.send(LiveUpdate::Presence { app_id, profile, viewers: Arc::from(viewers) });
    }
}

/// Every [`SWEEP_EVERY`], drops the tabs no instance announced lately; every
/// [`ANNOUNCE_EVERY`], announces this instance's tabs to the others
/// (PostgreSQL: a NOTIFY per [`super::presence::TABS_PER_MESSAGE`] tabs,
/// no row written).
pub(super) async fn keep_presence(
    store: Store,
    fanout: broadcast::Sender<LiveUpdate>,
    book: Arc<PresenceBook>,
    own: Arc<OwnTabs>,
    instance: u64,
) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut announced = Instant::now();
    loop {
        tick.tick().await;
        if store.is_closed() {
            return;
        }
        broadcast_viewers(&fanout, book.sweep(Instant::now()));
        if announced.elapsed() >= ANNOUNCE_EVERY {
            announced = Instant::now();
            for note in own.notes(instance) {
                // This instance's own tabs stay in its book while open: it
                // applies its notes itself, with a fresh expiry each time.
                broadcast_viewers(&fanout, book.apply(&note, Instant::now()));
                announce(&store, &note).await;
            }
        }
    }
}

/// Sends a presence note to the other instances (PostgreSQL; on SQLite there
/// are none).
pub(super) async fn announce(store: &Store, note: &PresenceNote) {
    let Some(payload) = note.payload() else { return };
    if let Err(error) = store.announce(&payload).await {
        tracing::warn!(%error, "live: cannot announce presence");
    }
}

/// Every [`COUNTS_EVERY`], each app with a Live page open on this instance
/// has its counts taken once and broadcast to all its pages.
pub(super) async fn count_watched_apps(store: Store, fanout: broadcast::Sender<LiveUpdate>, apps: Arc<Watched>) {
    let mut tick = tokio::time::interval(COUNTS_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if store.is_closed() {
            return;
        }
        for app_id in apps.all() {
            match store.live_counts(app_id, crate::time::now_ms()).await {
                Ok(counts) => {
                    let _ = fanout.send(LiveUpdate::Counts { app_id, counts: Arc::new(counts) });
                }
                Err(error) => tracing::warn!(%error, app_id, "live: cannot count an app's active users"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_are_read_as_what_they_name() {
        assert!(matches!(parse("1,2,x,3"), Some(Committed::Events(StoredIds::List(ids))) if ids == vec![1, 2, 3]));
        assert!(matches!(parse(&format!("{MOVED_PREFIX}42")), Some(Committed::Moved(42))));
        for what in BoxChanged::ALL {
            let changed = parse(&format!("{}:7:9", what.name()));
            assert!(
                matches!(changed, Some(Committed::Changed { what: w, app_id: 7, user_id: 9 }) if w == what),
                "{changed:?}"
            );
            assert!(parse(&format!("{}:7", what.name())).is_none());
        }
        let note = PresenceNote { instance: 3, open: false, tabs: Vec::new() };
        assert!(matches!(parse(&note.payload().unwrap()), Some(Committed::Presence(n)) if n == note));
    }
}
