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
    /// The newest event id when the profile was read: where the page's
    /// live stream starts (it replays anything newer).
    pub live_after: i64,
}
