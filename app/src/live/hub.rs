//! The live channel's server side: committed events and device moves
//! fanned out to every open stream of this instance. The profile's boxes
//! (activity, the maps; messages next) subscribe to the one broadcast.
//!
//! Where the ids come from: on SQLite (one instance) the ingest route hands
//! them over in-process after commit; on PostgreSQL the ingest transaction
//! itself NOTIFYs them (delivered at commit, never for a rollback) and each
//! instance LISTENs, so an event ingested on one instance reaches viewers on
//! all. Either way the fan-out task reads the rows and broadcasts them.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::{broadcast, mpsc};

use crate::activity::model::ActivityEvent;
use crate::devices::model::DeviceMoved;
use crate::store::{Store, StoreResult, StoredIds, MESSAGES_PREFIX, MOVED_PREFIX};

/// Batches the broadcast holds for a slow stream before it lags (and is
/// dropped, to resume from the database by `Last-Event-ID`).
const FANOUT_CAPACITY: usize = 1024;
/// Events read back at most per catch-up after the listener reconnected.
const CATCH_UP: i64 = 10_000;

/// One committed change, as every stream sees it.
#[derive(Debug, Clone)]
pub enum LiveUpdate {
    /// A batch of events.
    Activity(Arc<[ActivityEvent]>),
    /// A device's new last position.
    Moved(DeviceMoved),
    /// The user's private messages changed (a new one, a delivery).
    Messages { app_id: i64, user_id: i64 },
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
    local: Option<mpsc::UnboundedSender<Committed>>,
}

impl LiveHub {
    /// Starts the fan-out task for `store` (a LISTEN connection on PostgreSQL).
    pub async fn start(store: Store) -> StoreResult<LiveHub> {
        let (fanout, _) = broadcast::channel(FANOUT_CAPACITY);
        let local = match store.event_listener().await? {
            Some((listener, channel)) => {
                tokio::spawn(listen(listener, channel, store, fanout.clone()));
                None
            }
            None => {
                let (sender, receiver) = mpsc::unbounded_channel();
                tokio::spawn(fan_out_local(receiver, store, fanout.clone()));
                Some(sender)
            }
        };
        Ok(LiveHub { fanout, local })
    }

    /// Call after the events `stored` are committed. On PostgreSQL their
    /// transaction has already notified every instance.
    pub fn committed(&self, stored: &StoredIds) {
        if let (Some(local), false) = (&self.local, matches!(stored, StoredIds::None)) {
            // The receiver lives as long as the runtime.
            let _ = local.send(Committed::Events(stored.clone()));
        }
    }

    /// Call after a device's new last position is committed
    /// (`Store::add_locations` returned `true`).
    pub fn moved(&self, device_id: i64) {
        if let Some(local) = &self.local {
            let _ = local.send(Committed::Moved(device_id));
        }
    }

    /// Call after a change to a user's messages is committed (on
    /// PostgreSQL its transaction has notified every instance).
    pub fn messages_changed(&self, app_id: i64, user_id: i64) {
        if let Some(local) = &self.local {
            let _ = local.send(Committed::Messages { app_id, user_id });
        }
    }

    /// Every change committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveUpdate> {
        self.fanout.subscribe()
    }
}

/// Reads the device's position and broadcasts it.
async fn fan_out_move(store: &Store, fanout: &broadcast::Sender<LiveUpdate>, device_id: i64) {
    match store.device_moved(device_id).await {
        Ok(Some(moved)) => {
            let _ = fanout.send(LiveUpdate::Moved(moved));
        }
        Ok(None) => {}
        Err(error) => tracing::warn!(%error, "live: cannot read a device's position"),
    }
}

/// Reads the rows of `ids` and broadcasts them; returns the newest id.
async fn fan_out(store: &Store, fanout: &broadcast::Sender<LiveUpdate>, ids: &StoredIds) -> Option<i64> {
    match store.stored_events(ids).await {
        Ok(events) if !events.is_empty() => {
            let newest = events.iter().map(|e| e.id).max();
            // No stream open is fine.
            let _ = fanout.send(LiveUpdate::Activity(Arc::from(events)));
            newest
        }
        Ok(_) => None,
        Err(error) => {
            tracing::warn!(%error, "live: cannot read committed events");
            None
        }
    }
}

async fn fan_out_local(
    mut receiver: mpsc::UnboundedReceiver<Committed>,
    store: Store,
    fanout: broadcast::Sender<LiveUpdate>,
) {
    while let Some(committed) = receiver.recv().await {
        match committed {
            Committed::Events(ids) => {
                fan_out(&store, &fanout, &ids).await;
            }
            Committed::Moved(device_id) => fan_out_move(&store, &fanout, device_id).await,
            Committed::Messages { app_id, user_id } => {
                let _ = fanout.send(LiveUpdate::Messages { app_id, user_id });
            }
        }
    }
}

/// PostgreSQL: every notification's ids, read and broadcast. When the
/// connection drops (a database restart), listens again as soon as it can,
/// then catches up on the events committed meanwhile (ids after the newest
/// one broadcast), whose notifications were lost.
async fn listen(mut listener: PgListener, channel: String, store: Store, fanout: broadcast::Sender<LiveUpdate>) {
    let mut newest = store.last_event_id().await.unwrap_or(0);
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                if let Some(whose) = notification.payload().strip_prefix(MESSAGES_PREFIX) {
                    if let Some((Ok(app_id), Ok(user_id))) =
                        whose.split_once(':').map(|(a, u)| (a.parse::<i64>(), u.parse::<i64>()))
                    {
                        let _ = fanout.send(LiveUpdate::Messages { app_id, user_id });
                    }
                    continue;
                }
                if let Some(device) = notification.payload().strip_prefix(MOVED_PREFIX) {
                    if let Ok(device_id) = device.parse() {
                        fan_out_move(&store, &fanout, device_id).await;
                    }
                    continue;
                }
                let ids: Vec<i64> = notification.payload().split(',').filter_map(|id| id.parse().ok()).collect();
                if let Some(id) = fan_out(&store, &fanout, &StoredIds::List(ids)).await {
                    newest = newest.max(id);
                }
                continue;
            }
            Ok(None) => tracing::warn!("live: the LISTEN connection was lost; reconnecting"),
            Err(error) => tracing::warn!(%error, "live: LISTEN failed; reconnecting"),
        }
        // Listen again first, then catch up: nothing committed in between is missed.
        while let Err(error) = listener.listen(&channel).await {
            tracing::debug!(%error, "live: database not back yet");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        loop {
            match store.event_ids_after(newest, CATCH_UP).await {
                Ok(ids) if ids.is_empty() => break,
                Ok(ids) => {
                    let more = ids.len() as i64 == CATCH_UP;
                    if let Some(id) = fan_out(&store, &fanout, &StoredIds::List(ids)).await {
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
