//! The live channel: server-sent-events streams carrying what happens as
//! it commits, one per open profile (that user's) and one per open Live
//! page (the whole app's). `hub` is the server's fan-out; `source` the
//! browser's connection; `subscriber` the profile's feed, which its boxes
//! share (the Live page's is `live_page::stream`).

use crate::model::profile::BoxChanged;

#[cfg(feature = "ssr")]
mod fanout;
#[cfg(feature = "ssr")]
mod hub;
#[cfg(feature = "ssr")]
pub mod limits;
#[cfg(feature = "ssr")]
pub mod presence;
mod source;
mod subscriber;

#[cfg(feature = "ssr")]
pub use fanout::LiveUpdate;
#[cfg(feature = "ssr")]
pub use hub::{LiveHub, OpenTab, Subscription};
#[cfg(feature = "ssr")]
pub use limits::{StreamLimits, StreamRefused, StreamSlot};
pub use source::{open_stream, LiveState};
pub use subscriber::{provide_live, use_live, LiveFeed, LiveLog};

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
pub const MESSAGES: &str = BoxChanged::Messages.name();

/// The SSE event name of a change to the user's notes (as [`MESSAGES`]):
/// the Notes box reloads.
pub const NOTES: &str = BoxChanged::Notes.name();

/// The SSE event name of who else has the profile open (its data: the
/// other accounts, `[Viewer]`; no SSE id), sent on opening and on every
/// change.
pub const PRESENCE: &str = "presence";

/// The SSE event name of the hint a stream sends when its server shuts down
/// (with a short `retry:`): the browser's EventSource reconnects by itself,
/// with `Last-Event-ID`, to whichever instance takes it.
pub const RECONNECT: &str = "reconnect";

/// The stream of the whole app for the Live page (`GET`, session cookie;
/// filters in the query, `?after=ID` or `Last-Event-ID` resumes).
pub const APP_STREAM_PATH: &str = "/api/live/app";

/// The SSE event name of one event on the app's stream (its data: a
/// `LiveEvent`; its id the event's).
pub const APP_EVENT: &str = "event";

/// The SSE event name of a second's figures on the app's stream (its data:
/// `{matched, shown, every}`).
pub const RATE: &str = "rate";

/// The SSE event name of the app's counts on its stream (its data: `{active,
/// top}`, an `ActiveNow` and the top `TypeMinutes`).
pub const OVERVIEW: &str = "overview";
