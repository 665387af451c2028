//! What the profile page loads in one request.

use serde::{Deserialize, Serialize};

use crate::model::devices::Device;
use crate::model::segments::Segment;
use crate::model::UserSummary;

/// The User Profile box, and the boxes whose first state comes with it
/// (the page renders them on the server in one pass).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserProfile {
    pub user: UserSummary,
    /// Gravatar image URL (md5 of the trimmed, lower-cased email), if the user has an email.
    pub gravatar_url: Option<String>,
    /// The user's live Push Mail address, if generated.
    pub push_mail: Option<String>,
    /// The segments the user belongs to, by name.
    pub segments: Vec<Segment>,
    /// The user's devices, most recently active first (none when deactivated).
    pub devices: Vec<Device>,
    /// The user's properties, by name.
    pub properties: Vec<super::properties::UserProperty>,
    /// Merges into this user that can still be undone, newest first.
    pub merges: Vec<super::merges::MergeNote>,
    /// The newest event id when the profile was read: where the page's
    /// live stream starts (it replays anything newer).
    pub live_after: i64,
}

/// What a read showed of one person, as the access log names it. Every
/// read that returns a person's data writes one of these (coalesced: one
/// per account, person and kind per [`VIEW_COALESCE_MS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Viewed {
    /// The profile page's data: the user, devices list, segments.
    Profile,
    /// A device's page: its owner, location trail and events.
    Device,
    /// The private messages: the list or a message's body.
    Messages,
    /// Events: the recent box, a search, the histogram, the timeline.
    Activity,
    /// The profile's or a device's live stream.
    Live,
}

/// Reads of one kind by one account within this long are one entry.
pub const VIEW_COALESCE_MS: i64 = 10 * 60 * 1000;

/// Every view's audit action starts with this (the access log lists them,
/// the user's timeline leaves them out).
pub const VIEWED_PREFIX: &str = "viewed ";

impl Viewed {
    pub const ALL: [Viewed; 5] = [Viewed::Profile, Viewed::Device, Viewed::Messages, Viewed::Activity, Viewed::Live];

    /// The audit action.
    pub fn action(self) -> &'static str {
        match self {
            Viewed::Profile => "viewed profile",
            Viewed::Device => "viewed device",
            Viewed::Messages => "viewed messages",
            Viewed::Activity => "viewed activity",
            Viewed::Live => "viewed live",
        }
    }

    pub fn of_action(action: &str) -> Option<Viewed> {
        Viewed::ALL.into_iter().find(|v| v.action() == action)
    }

    /// What the access log says was seen.
    pub fn label(self) -> &'static str {
        match self {
            Viewed::Profile => "the profile",
            Viewed::Device => "a device",
            Viewed::Messages => "messages",
            Viewed::Activity => "activity",
            Viewed::Live => "the live stream",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_view_action_has_the_prefix_and_reads_back() {
        for viewed in Viewed::ALL {
            assert!(viewed.action().starts_with(VIEWED_PREFIX), "{viewed:?}");
            assert_eq!(Viewed::of_action(viewed.action()), Some(viewed));
        }
        assert_eq!(Viewed::of_action("exported user"), None);
    }
}

/// One account with a profile open, as "Also viewing" names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Viewer {
    pub account_id: i64,
    pub email: String,
    /// `admin` or `viewer`.
    pub role: String,
}

/// A profile box whose data changed: every open copy of the profile
/// reloads it (the live channel carries the change, not the data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoxChanged {
    /// The user's private messages (a new one, a delivery).
    Messages,
    /// The user's notes (added, edited, deleted).
    Notes,
}

impl BoxChanged {
    pub const ALL: [BoxChanged; 2] = [BoxChanged::Messages, BoxChanged::Notes];

    /// The SSE event's name, and the change's name between instances.
    pub const fn name(self) -> &'static str {
        match self {
            BoxChanged::Messages => "messages",
            BoxChanged::Notes => "notes",
        }
    }
}
