//! Server functions of the merge: the preview, the merge and its undo.
//! Admins only; viewers are refused (403).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::merges::MergePreview;
use crate::model::UserSummary;

/// The users user `user_id` could be merged into, matching `search` (as
/// the users list searches), at most `limit` (up to 20).
#[server(endpoint = "merge/candidates", output = crate::codec::Json)]
pub async fn merge_candidates(user_id: i64, search: String, limit: i64) -> Result<Vec<UserSummary>, AppError> {
    use crate::auth::session::{fail, Caller};
    let Caller { state, app, .. } = Caller::admin().await?;
    super::service::candidates(&state.store, app.id, user_id, &search, limit.clamp(1, 20)).await.or_else(fail)
}

/// What merging user `user_id` into user `into` would move. It shows both
/// users' property values: both access logs record a profile view.
#[server(endpoint = "merge/preview", output = crate::codec::Json)]
pub async fn preview_merge(user_id: i64, into: i64) -> Result<MergePreview, AppError> {
    use crate::auth::session::{fail, Caller};
    use crate::model::profile::Viewed;
    let caller = Caller::admin().await?;
    let preview = super::service::preview(&caller.state.store, caller.app.id, user_id, into).await.or_else(fail)?;
    for user in [user_id, into] {
        caller.viewed(user, Viewed::Profile).await.or_else(fail)?;
    }
    Ok(preview)
}

/// Merges user `user_id` into user `into` (`take`: property names whose
/// value comes from the merged user), then shows the kept user's page
/// with the notice.
#[server(endpoint = "merge/merge", output = crate::codec::Json)]
pub async fn merge_user(user_id: i64, into: i64, take: Option<Vec<String>>) -> Result<(), AppError> {
    use crate::auth::session::{fail, Caller};
    use crate::time::now_ms;
    let Caller { state, app, account: admin } = Caller::admin().await?;
    let take = take.unwrap_or_default();
    let merge =
        state.store.merge_users(app.id, (user_id, into), &take, &admin.email, now_ms()).await.map_err(AppError::from);
    let merge = merge.or_else(fail)?;
    tracing::info!(merge = merge.id, merged = user_id, kept = into, "users merged from the console");
    leptos_axum::redirect(&format!("/users/{into}?merged={}", merge.id));
    Ok(())
}

/// Undoes merge `merge_id`: the merged user is back, with what moved.
/// Then the page of the user it had been merged into (`back_to`) again.
#[server(endpoint = "merge/undo", output = crate::codec::Json)]
pub async fn undo_merge(merge_id: i64, back_to: i64) -> Result<(), AppError> {
    use crate::auth::session::{fail, Caller};
    use crate::time::now_ms;
    let Caller { state, app, account: admin } = Caller::admin().await?;
    let restored = state.store.undo_merge(app.id, merge_id, &admin.email, now_ms()).await.map_err(AppError::from);
    let restored = restored.or_else(fail)?;
    tracing::info!(merge = merge_id, restored, "merge undone from the console");
    leptos_axum::redirect(&format!("/users/{back_to}?unmerged={restored}"));
    Ok(())
}
