//! What the profile's User Profile box shows.

use serde::{Deserialize, Serialize};

use crate::model::UserSummary;

/// Everything the profile's User Profile box shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserProfile {
    pub user: UserSummary,
    /// Gravatar image URL (md5 of the trimmed, lower-cased email), if the user has an email.
    pub gravatar_url: Option<String>,
    /// The user's live Push Mail address, if generated.
    pub push_mail: Option<String>,
}
