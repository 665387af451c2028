//! Merges named by userID, as the API and the console ask for them.

use crate::error::AppError;
use crate::ids::ExternalId;
use crate::model::merges::{MergeNote, MergePreview, PropertyConflict};
use crate::model::properties::value_words;
use crate::store::{Merge, Store, UNDO_WINDOW_MS};
use crate::time::now_ms;

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

/// Merges into `user_id` that can still be undone, for its profile.
pub async fn undoable(store: &Store, app_id: i64, user_id: i64) -> Result<Vec<MergeNote>, AppError> {
    let merges = store.undoable_merges(app_id, user_id, now_ms()).await?;
    Ok(merges
        .into_iter()
        .map(|m| MergeNote {
            id: m.id,
            merged_user: m.merged_external_id,
            merged_at: m.merged_at,
            undo_until: m.merged_at + UNDO_WINDOW_MS,
        })
        .collect())
}

/// The page of the user a merged user's data is with now, with the merge
/// named for its notice (`?merged=`): `None` when `user_id` was never
/// merged away.
pub async fn merged_page(store: &Store, app_id: i64, user_id: i64) -> Result<Option<String>, AppError> {
    Ok(store.merged_into(app_id, user_id).await?.map(|(merge, now_at)| format!("/users/{now_at}?merged={}", merge.id)))
}

/// What merging `user_id` into `kept_id` would move, and the properties
/// whose values differ.
pub async fn preview(store: &Store, app_id: i64, user_id: i64, kept_id: i64) -> Result<MergePreview, AppError> {
    let missing = || AppError::NotFound("This user does not exist in this app.".into());
    store.user_by_id(app_id, user_id).await?.ok_or_else(missing)?;
    let kept = store.user_by_id(app_id, kept_id).await?.ok_or_else(missing)?;
    if kept.id == user_id {
        return Err(AppError::invalid("into", "A user cannot be merged into itself."));
    }
    let counts = store.merge_counts(app_id, user_id).await?;
    let (merged_values, kept_values) = (store.properties_of(user_id).await?, store.properties_of(kept_id).await?);
    let conflicts = merged_values
        .iter()
        .filter_map(|m| {
            let k = kept_values.iter().find(|k| k.name == m.name && k.value != m.value)?;
            Some(PropertyConflict {
                name: m.name.clone(),
                merged_value: value_words(Some(&m.value)),
                kept_value: value_words(Some(&k.value)),
            })
        })
        .collect();
    Ok(MergePreview {
        kept,
        moves: counts,
        conflicts,
        push_mail: store.push_token_of(app_id, user_id).await?.is_some(),
    })
}

/// Users the merged user can go into: the first few matching `search` as
/// the users list finds them (deactivated ones too), the user itself left out.
pub async fn candidates(
    store: &Store,
    app_id: i64,
    user_id: i64,
    search: &str,
    limit: i64,
) -> Result<Vec<crate::model::UserSummary>, AppError> {
    let filter =
        crate::model::UserFilter { search: search.to_string(), include_deactivated: true, ..Default::default() };
    let scope = crate::user_view::resolve_scope(store, app_id, &filter).await?;
    let budget = crate::store::Budget::default();
    let page = store.users_page_within(app_id, &filter, scope, None, limit + 1, budget).await?;
    Ok(page.users.into_iter().filter(|u| u.id != user_id).take(limit as usize).collect())
}
