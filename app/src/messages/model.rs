//! Private messages as the Private messages box lists them.

use serde::{Deserialize, Serialize};

/// A file attached to a private message (listed, not stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub name: String,
    pub size: u64,
}

/// A private message to a user, as the Private messages box lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageSummary {
    pub id: i64,
    pub title: String,
    /// The body's beginning (all of it unless `truncated`).
    pub preview: String,
    /// The body is longer than the preview: fetch it with `messages/body`.
    pub truncated: bool,
    /// "dashboard", "push mail" or "api".
    pub source: String,
    pub sender: String,
    pub created_at: i64,
    pub attachments: Vec<Attachment>,
}
