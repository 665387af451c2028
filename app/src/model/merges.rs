//! Merging users, as the console shows it: a merge into the user on the
//! page that can still be undone, and the preview of a merge to come.

use serde::{Deserialize, Serialize};

use super::UserSummary;

/// A merge into the user on the page, while it can be undone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeNote {
    pub id: i64,
    /// The merged user's userID (now an alias of this user).
    pub merged_user: String,
    pub merged_at: i64,
    pub undo_until: i64,
}

/// How much a merge moves (its preview) or moved (the merge done).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeCounts {
    pub devices: i64,
    pub events: i64,
    pub messages: i64,
    pub notes: i64,
    pub segments: i64,
    pub properties: i64,
    pub property_changes: i64,
}

/// A property both users have, with different values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertyConflict {
    pub name: String,
    /// The value of the user merged away, in words.
    pub merged_value: String,
    /// The value of the user kept, in words.
    pub kept_value: String,
}

/// What merging the user on the page into `kept` would move.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergePreview {
    pub kept: UserSummary,
    pub moves: MergeCounts,
    /// Conflicting properties: the kept user's value stays unless picked.
    pub conflicts: Vec<PropertyConflict>,
    /// The merged user has a Push Mail address (it stops working; the kept
    /// user's stays).
    pub push_mail: bool,
}
