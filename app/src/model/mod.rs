//! The data the layers exchange: types both the server and the browser see,
//! read and written by the store, carried by the live channel and shown by
//! the pages. Timestamps are epoch milliseconds (UTC); `crate::time` formats
//! them at the edge.
//!
//! This module depends on no feature, the store or the live channel, so each
//! of those can use it without an import circle. A feature names its own
//! types as `<feature>::model::…` (an alias of the submodule here).

pub mod activity;
pub mod auth;
pub mod devices;
pub mod jobs;
pub mod live;
pub mod merges;
pub mod messages;
pub mod notes;
pub mod profile;
pub mod properties;
pub mod property_filter;
pub mod segments;
pub mod users;

pub use auth::{AppInfo, AuditEntry, Me, Role};
pub use messages::{Attachment, MessageSummary};
pub use profile::UserProfile;
pub use segments::{Segment, SegmentMatch, SegmentSearch};
pub use users::{UserFilter, UserSort, UserSummary, UsersPage};
