//! The browser's connection to one live stream, shared by the profile's
//! feed and the Live page: an `EventSource` opened after hydration (never
//! on the server), resuming by itself with `Last-Event-ID` after a drop,
//! reopened from the last id seen when the browser gives up on it, and
//! closed when the page that opened it goes away.

use leptos::prelude::*;

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

/// Opens the stream at `path` (with `query`, without `after`) resuming
/// after the event id `after`, and calls `on(name, data)` for each SSE
/// event named in `names`; `state` follows the connection. Does nothing
/// on the server.
pub fn open_stream(
    state: RwSignal<LiveState>,
    path: String,
    after: i64,
    names: &'static [&'static str],
    on: impl Fn(&str, String) + 'static,
) {
    #[cfg(feature = "hydrate")]
    browser::open(state, path, after, names, std::rc::Rc::new(on));
    #[cfg(not(feature = "hydrate"))]
    let _ = (state, path, after, names, on);
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

    use super::LiveState;

    /// How long to wait before reopening a stream the browser gave up on.
    const REOPEN_AFTER: Duration = Duration::from_secs(3);

    type Handler = Rc<dyn Fn(&str, String)>;

    struct Connection {
        path: String,
        names: &'static [&'static str],
        on: Handler,
        state: RwSignal<LiveState>,
        source: RefCell<Option<EventSource>>,
        /// The newest event id received (where a reopened stream resumes).
        last_id: Cell<i64>,
        closed: Cell<bool>,
    }

    pub(super) fn open(
        state: RwSignal<LiveState>,
        path: String,
        after: i64,
        names: &'static [&'static str],
        on: Handler,
    ) {
        let connection = Rc::new(Connection {
            path,
            names,
            on,
            state,
            source: RefCell::new(None),
            last_id: Cell::new(after),
            closed: Cell::new(false),
        });
        // Effects run only in the browser, after hydration.
        let first = connection.clone();
        Effect::new(move |_| connect(&first));
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

    fn connect(connection: &Rc<Connection>) {
        if connection.closed.get() {
            return;
        }
        let joiner = if connection.path.contains('?') { '&' } else { '?' };
        let url = format!("{}{joiner}after={}", connection.path, connection.last_id.get());
        let state = connection.state;
        let Ok(source) = EventSource::new(&url) else {
            state.set(LiveState::Reconnecting);
            return;
        };
        let on_open = Closure::<dyn FnMut()>::new(move || state.set(LiveState::Live));
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        on_open.forget();

        for name in connection.names {
            let seen = connection.clone();
            let on_event = Closure::<dyn FnMut(MessageEvent)>::new(move |message: MessageEvent| {
                if let Ok(id) = message.last_event_id().parse::<i64>() {
                    seen.last_id.set(seen.last_id.get().max(id));
                }
                let data = message.data().as_string().unwrap_or_default();
                (seen.on)(name, data);
            });
            let _ = source.add_event_listener_with_callback(name, on_event.as_ref().unchecked_ref());
            on_event.forget();
        }

        let retry = connection.clone();
        let on_error = Closure::<dyn FnMut()>::new(move || {
            state.set(LiveState::Reconnecting);
            let gave_up = retry.source.borrow().as_ref().is_some_and(|s| s.ready_state() == EventSource::CLOSED);
            if gave_up && !retry.closed.get() {
                let again = retry.clone();
                set_timeout(move || connect(&again), REOPEN_AFTER);
            }
        });
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        *connection.source.borrow_mut() = Some(source);
    }
}
