//! The live channel: one server-sent-events stream per open profile,
//! carrying what happens to that user as it commits. `hub` is the server's
//! fan-out; `subscriber` the browser's end, which the profile's boxes share.

#[cfg(feature = "ssr")]
mod hub;
#[cfg(feature = "ssr")]
pub mod limits;
mod subscriber;

#[cfg(feature = "ssr")]
pub use hub::{LiveHub, LiveUpdate, Subscription};
#[cfg(feature = "ssr")]
pub use limits::{StreamLimits, StreamRefused, StreamSlot};
pub use subscriber::{provide_live, use_live, LiveFeed, LiveLog, LiveState};

/// The stream of one user's profile (`GET`, session cookie; `?after=ID`
/// or the `Last-Event-ID` header resumes after an event id).
pub fn user_stream_path(user_id: i64) -> String {
    format!("/api/live/users/{user_id}")
}

/// The SSE event name of an activity event (its data: an `ActivityEvent`).
pub const ACTIVITY: &str = "activity";

/// The SSE event name of a device's new position (its data: a
/// `DeviceMoved`; no SSE id, so resuming stays keyed on event ids).
pub const MOVED: &str = "moved";

/// The SSE event name of a change to the user's private messages (its data:
/// `{"user_id"}`; no SSE id): the messages box reloads.
pub const MESSAGES: &str = "messages";

/// The SSE event name of the hint a stream sends when its server shuts down
/// (with a short `retry:`): the browser's EventSource reconnects by itself,
/// with `Last-Event-ID`, to whichever instance takes it.
pub const RECONNECT: &str = "reconnect";
