//! The browser's end of the live channel: one `EventSource` per open
//! profile, shared through context by the boxes that show live data.
//!
//! The stream is opened after hydration (never on the server), resumes by
//! itself with `Last-Event-ID` after a drop, and is reopened from the last
//! id seen when the browser gives up on it (a failed reconnect). Closed
//! when the profile goes away.

use std::collections::VecDeque;

use leptos::prelude::*;

use crate::model::activity::ActivityEvent;
use crate::model::devices::DeviceMoved;

/// The connection, in the words the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveState {
    /// Before the stream first opened (and on the server).
    Connecting,
    Live,
    Reconnecting,
}

impl LiveState {
    pub fn label(self) -> &'static str {
        match self {
            LiveState::Connecting => "Connecting…",
            LiveState::Live => "Live",
            LiveState::Reconnecting => "Reconnecting…",
        }
    }
}

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
    };
    provide_context(feed);
    #[cfg(feature = "hydrate")]
    browser::open(feed, user_id, after);
    #[cfg(not(feature = "hydrate"))]
    let _ = (user_id, after);
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

#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use std::time::Duration;

    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{EventSource, MessageEvent};

    use super::{LiveFeed, LiveState};
    use crate::live::{user_stream_path, ACTIVITY, MESSAGES, MOVED};
    use crate::model::activity::ActivityEvent;
    use crate::model::devices::DeviceMoved;

    /// How long to wait before reopening a stream the browser gave up on.
    const REOPEN_AFTER: Duration = Duration::from_secs(3);

    struct Connection {
        source: RefCell<Option<EventSource>>,
        /// The newest event id received (where a reopened stream resumes).
        last_id: Cell<i64>,
        closed: Cell<bool>,
    }

    pub(super) fn open(feed: LiveFeed, user_id: i64, after: i64) {
        let connection =
            Rc::new(Connection { source: RefCell::new(None), last_id: Cell::new(after), closed: Cell::new(false) });
        // Effects run only in the browser, after hydration.
        let first = connection.clone();
        Effect::new(move |_| connect(&first, feed, user_id));
        let on_leave = StoredValue::new_local(connection);
        on_cleanup(move || {
            on_leave.with_value(|connection| {
                connection.closed.set(true);
                if let Some(source) = connection.source.borrow_mut().take() {
                    source.close();
                }
            })
        });
    }

    fn connect(connection: &Rc<Connection>, feed: LiveFeed, user_id: i64) {
        if connection.closed.get() {
            return;
        }
        let url = format!("{}?after={}", user_stream_path(user_id), connection.last_id.get());
        let Ok(source) = EventSource::new(&url) else {
            feed.state.set(LiveState::Reconnecting);
            return;
        };
        let on_open = Closure::<dyn FnMut()>::new(move || feed.state.set(LiveState::Live));
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        on_open.forget();

        let seen = connection.clone();
        let on_activity = Closure::<dyn FnMut(MessageEvent)>::new(move |message: MessageEvent| {
            let Some(text) = message.data().as_string() else { return };
            let Ok(event) = serde_json::from_str::<ActivityEvent>(&text) else { return };
            seen.last_id.set(seen.last_id.get().max(event.id));
            feed.activity.update(|log| log.push(event));
        });
        let _ = source.add_event_listener_with_callback(ACTIVITY, on_activity.as_ref().unchecked_ref());
        on_activity.forget();

        let on_moved = Closure::<dyn FnMut(MessageEvent)>::new(move |message: MessageEvent| {
            let Some(text) = message.data().as_string() else { return };
            let Ok(moved) = serde_json::from_str::<DeviceMoved>(&text) else { return };
            feed.moves.update(|log| log.push(moved));
        });
        let _ = source.add_event_listener_with_callback(MOVED, on_moved.as_ref().unchecked_ref());
        on_moved.forget();

        let on_messages = Closure::<dyn FnMut()>::new(move || feed.messages.update(|n| *n += 1));
        let _ = source.add_event_listener_with_callback(MESSAGES, on_messages.as_ref().unchecked_ref());
        on_messages.forget();

        let retry = connection.clone();
        let on_error = Closure::<dyn FnMut()>::new(move || {
            feed.state.set(LiveState::Reconnecting);
            let gave_up = retry.source.borrow().as_ref().is_some_and(|s| s.ready_state() == EventSource::CLOSED);
            if gave_up && !retry.closed.get() {
                let again = retry.clone();
                set_timeout(move || connect(&again, feed, user_id), REOPEN_AFTER);
            }
        });
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        *connection.source.borrow_mut() = Some(source);
    }
}
