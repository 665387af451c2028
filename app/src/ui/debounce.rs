//! Search-as-you-type waits for a pause in the typing.

use std::time::Duration;

use leptos::prelude::*;

/// How long typing pauses before a search runs: short enough to feel
/// immediate, long enough that a word typed at speed is one request.
pub const TYPING_PAUSE: Duration = Duration::from_millis(200);

/// `run`, called with the latest value once calls to the returned function
/// have paused for `pause`; each call cancels the one still waiting. On the
/// server (nothing is typed there) the timer never fires.
pub fn debounced<T: 'static>(pause: Duration, run: impl Fn(T) + Copy + 'static) -> impl Fn(T) + Copy + 'static {
    // Not `new_local`: the page also renders on the server, where a local
    // value made during the render may be dropped on another thread.
    let waiting = StoredValue::new(None::<TimeoutHandle>);
    move |value: T| {
        if let Some(handle) = waiting.get_value() {
            handle.clear();
        }
        waiting.set_value(set_timeout_with_handle(move || run(value), pause).ok());
    }
}
