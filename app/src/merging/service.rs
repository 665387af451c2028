//! Merges named by userID, as the API and the console ask for them.

use crate::error::AppError;
use crate::ids::ExternalId;
use crate::store::{Merge, Store};

/// A merge asked for by userID: the one done now, or (asked again) the one
/// done before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeAnswer {
    pub merge: Merge,
    /// The userID that has the merged user's data now.
    pub into: String,
    /// False when the userID was merged into this user already.
    pub created: bool,
}

/// Merges user `merged` into user `into` (both userIDs of the app; `into`
/// may itself be a merged userID, naming its kept user). Asked again once
/// done, it answers the earlier merge; a userID merged into another user
/// is refused.
pub async fn merge_by_user_ids(
    store: &Store,
    app_id: i64,
    (merged, into): (&ExternalId, &ExternalId),
    take: &[String],
    actor: &str,
    now: i64,
) -> Result<MergeAnswer, AppError> {
    let unknown = |id: &ExternalId| AppError::NotFound(format!("unknown userID '{}'", id.as_str()));
    let kept = store.user_by_external_id_or_alias(app_id, into.as_str()).await?.ok_or_else(|| unknown(into))?;
    match store.user_by_external_id(app_id, merged.as_str()).await? {
        Some(user) if user.id == kept.id => Err(AppError::invalid("into", "A user cannot be merged into itself.")),
        Some(user) => {
            let merge = store.merge_users(app_id, (user.id, kept.id), take, actor, now).await?;
            tracing::info!(merge = merge.id, merged = user.id, kept = kept.id, "users merged");
            Ok(MergeAnswer { merge, into: kept.external_id, created: true })
        }
        None => match store.alias_of(app_id, merged.as_str()).await? {
            Some(target) if target == kept.id => {
                let merge = store.merge_of_alias(app_id, merged.as_str()).await?.ok_or(AppError::Internal)?;
                Ok(MergeAnswer { merge, into: kept.external_id, created: false })
            }
            Some(_) => {
                Err(AppError::Conflict(format!("userID '{}' was merged into another user already.", merged.as_str())))
            }
            None => Err(unknown(merged)),
        },
    }
}
