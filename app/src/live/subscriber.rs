//! The profile's end of the live channel: one stream per open profile
//! (see `source` for the connection), shared through context by the boxes
//! that show live data.

use std::collections::VecDeque;

use leptos::prelude::*;

use crate::model::activity::ActivityEvent;
use crate::model::devices::DeviceMoved;
use crate::model::profile::Viewer;

use super::source::{open_stream, LiveState};
use super::{user_stream_path, ACTIVITY, MESSAGES, MOVED, NOTES, PRESENCE};

/// Items received (events, moves), in arrival order. Readers remember the
/// sequence number they read up to, so several boxes can follow one log
/// and none misses an item that arrived in the same tick as another; the
/// oldest entries are dropped past [`LOG_LIMIT`].
#[derive(Debug, Clone, PartialEq)]
pub struct LiveLog<T> {
    /// Sequence number of `events[0]`.
    pub first: usize,
    pub events: VecDeque<T>,
}

impl<T> Default for LiveLog<T> {
    fn default() -> Self {
        LiveLog { first: 0, events: VecDeque::new() }
    }
}

const LOG_LIMIT: usize = 2000;

impl<T: Clone> LiveLog<T> {
    /// The items with sequence numbers from `from` on, and the number after them.
    pub fn since(&self, from: usize) -> (Vec<T>, usize) {
        let skip = from.saturating_sub(self.first);
        (self.events.iter().skip(skip).cloned().collect(), self.first + self.events.len())
    }

    pub fn push(&mut self, event: T) {
        self.events.push_back(event);
        while self.events.len() > LOG_LIMIT {
            self.events.pop_front();
            self.first += 1;
        }
    }
}

/// One profile's live stream.
#[derive(Debug, Clone, Copy)]
pub struct LiveFeed {
    pub state: RwSignal<LiveState>,
    pub activity: RwSignal<LiveLog<ActivityEvent>>,
    /// The user's devices' new positions.
    pub moves: RwSignal<LiveLog<DeviceMoved>>,
    /// Counts changes to the user's private messages (readers reload on it).
    pub messages: RwSignal<u64>,
    /// Counts changes to the user's notes (as `messages`).
    pub notes: RwSignal<u64>,
    /// The other accounts with this profile open.
    pub others: RwSignal<Vec<Viewer>>,
}

/// Opens the live stream of `user_id`'s profile, resuming after the event
/// id `after` (the newest when the page was loaded), and shares it with the
/// boxes below (see [`use_live`]).
pub fn provide_live(user_id: i64, after: i64) -> LiveFeed {
    let feed = LiveFeed {
        state: RwSignal::new(LiveState::Connecting),
        activity: RwSignal::new(LiveLog::default()),
        moves: RwSignal::new(LiveLog::default()),
        messages: RwSignal::new(0),
        notes: RwSignal::new(0),
        others: RwSignal::new(Vec::new()),
    };
    provide_context(feed);
    open_stream(
        feed.state,
        user_stream_path(user_id),
        after,
        &[ACTIVITY, MOVED, MESSAGES, NOTES, PRESENCE],
        move |name, data| match name {
            ACTIVITY => {
                if let Ok(event) = serde_json::from_str::<ActivityEvent>(&data) {
                    feed.activity.update(|log| log.push(event));
                }
            }
            MOVED => {
                if let Ok(moved) = serde_json::from_str::<DeviceMoved>(&data) {
                    feed.moves.update(|log| log.push(moved));
                }
            }
            MESSAGES => feed.messages.update(|n| *n += 1),
            NOTES => feed.notes.update(|n| *n += 1),
            _ => {
                if let Ok(others) = serde_json::from_str::<Vec<Viewer>>(&data) {
                    feed.others.set(others);
                }
            }
        },
    );
    feed
}

/// The live stream of the profile on screen, if any.
pub fn use_live() -> Option<LiveFeed> {
    use_context::<LiveFeed>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: i64) -> ActivityEvent {
        ActivityEvent {
            id,
            app_id: 1,
            user_id: Some(1),
            event_type: "t".into(),
            device_id: None,
            device_name: None,
            occurred_at: id,
            data: None,
        }
    }

    #[test]
    fn readers_follow_the_log_from_where_they_stopped() {
        let mut log = LiveLog::default();
        log.push(event(1));
        log.push(event(2));
        let (read, next) = log.since(0);
        assert_eq!(read.iter().map(|e| e.id).collect::<Vec<_>>(), [1, 2]);
        log.push(event(3));
        let (read, next) = log.since(next);
        assert_eq!(read.iter().map(|e| e.id).collect::<Vec<_>>(), [3]);
        assert!(log.since(next).0.is_empty());
        for id in 4..(LOG_LIMIT as i64 + 10) {
            log.push(event(id));
        }
        assert_eq!(log.events.len(), LOG_LIMIT, "the oldest are dropped");
        let (read, _) = log.since(next);
        assert_eq!(read.first().map(|e| e.id), Some(log.first as i64 + 1), "a reader that fell behind skips ahead");
    }
}
