//! Types both the server and the browser see. Timestamps are epoch
//! milliseconds (UTC); `crate::time` formats them at the edge.
//!
//! Each feature's types live in its folder (`<feature>/model.rs`); they are
//! re-exported here for the code that names them `model::…`.

pub use crate::auth::model::{AppInfo, AuditEntry, Me, Role};
pub use crate::messages::model::{Attachment, MessageSummary};
pub use crate::profile::model::UserProfile;
pub use crate::segments::model::{Segment, SegmentMatch, SegmentSearch};
pub use crate::users::model::{UserFilter, UserSort, UserSummary, UsersPage};
