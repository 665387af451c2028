//! The app-wide Live page's data: who is active now, the event stream's
//! rows and their filters, the top event types of the last hour and the
//! live map's positions.

use serde::{Deserialize, Serialize};

use super::activity::ActivityEvent;
use super::devices::Fix;
use super::users::ActiveWithin;

/// The windows "active now" counts: the users list's activity filters.
pub const ACTIVE_WINDOWS: [ActiveWithin; 3] =
    [ActiveWithin::OneMinute, ActiveWithin::FiveMinutes, ActiveWithin::HalfHour];

/// Rows the Live page keeps (older ones drop off), and the first render sends.
pub const SHOWN_EVENTS: i64 = 300;

/// Event types the page's "Top events" shows.
pub const TOP_TYPES: usize = 10;

/// One second of the app's stream: events that matched the filters (exact),
/// rows sent, and the sampling (one row in `every`) once more match than a
/// person can read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondRate {
    pub matched: u64,
    pub shown: u64,
    pub every: u64,
}

/// The counts the app's stream sends again every few seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveCounts {
    pub active: ActiveNow,
    pub top: Vec<TypeMinutes>,
}

/// Users with an event in each of [`ACTIVE_WINDOWS`], and new users.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActiveNow {
    /// Users active in the last 1, 5 and 30 minutes.
    pub users: [i64; 3],
    /// Per platform, users with a device of it active in each window,
    /// busiest first (a user on two platforms counts on each).
    pub platforms: Vec<PlatformActive>,
    /// Users created in the last hour.
    pub new_last_hour: i64,
    /// When these were counted (epoch ms).
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformActive {
    pub platform: String,
    pub users: [i64; 3],
}

/// One event as the Live page shows it: the event, and whose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct LiveEvent {
    #[cfg_attr(feature = "ssr", sqlx(flatten))]
    pub event: ActivityEvent,
    /// The user's userID, when the event has a user.
    pub user_external_id: Option<String>,
    pub user_name: Option<String>,
    /// The device's platform, when the event has a device.
    pub platform: Option<String>,
    /// Deactivated users' events are never shown on the Live page.
    #[serde(skip)]
    pub user_active: bool,
}

impl LiveEvent {
    /// The user as the page names them: their name, else their userID.
    pub fn who(&self) -> Option<&str> {
        self.user_name.as_deref().filter(|n| !n.is_empty()).or(self.user_external_id.as_deref())
    }
}

/// The event stream's filters, as the page's URL and the stream's query
/// carry them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveFilter {
    /// Event types (any of them); empty: every type.
    #[serde(default)]
    pub types: Vec<String>,
    /// Only members of this segment (its id).
    pub segment: Option<i64>,
    /// Text the event's `data` contains (case-insensitive).
    pub text: Option<String>,
    /// Only events from devices of this platform.
    pub platform: Option<String>,
}

/// One event type's count in the last hour, and per minute (oldest first,
/// sixty of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeMinutes {
    pub event_type: String,
    pub total: i64,
    pub per_minute: Vec<i64>,
}

/// A device's last position on the live map, with its user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LivePosition {
    pub device_id: i64,
    pub user_id: i64,
    pub user: String,
    pub fix: Fix,
}

/// What the Live page renders first; the stream keeps it current.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveOverview {
    pub active: ActiveNow,
    pub top: Vec<TypeMinutes>,
    /// The newest events (matching the filters), newest first.
    pub events: Vec<LiveEvent>,
    pub positions: Vec<LivePosition>,
    /// The stream resumes after this event id.
    pub after: i64,
}
