//! Server functions of the segments feature: session and role check, then
//! one service call.

use leptos::prelude::*;

use super::model::{Segment, SegmentSearch};
use crate::error::AppError;

/// The segments the user belongs to, by name.
#[server(endpoint = "segments/of-user", output = crate::codec::Json)]
pub async fn user_segments(user_id: i64) -> Result<Vec<Segment>, AppError> {
    use crate::auth::session::{fail, Caller};
    let caller = Caller::viewer().await?;
    let segments = super::service::user_segments(&caller.state.store, caller.app.id, user_id).await.or_else(fail)?;
    caller.viewed(user_id, crate::model::profile::Viewed::Profile).await.or_else(fail)?;
    Ok(segments)
}

/// The app's segments matching `text` (prefix matches first), each marked
/// when the user already belongs to it.
#[server(endpoint = "segments/search", output = crate::codec::Json)]
pub async fn search_segments(user_id: i64, text: String) -> Result<SegmentSearch, AppError> {
    use crate::auth::session::{fail, Caller};
    let Caller { state, app, .. } = Caller::viewer().await?;
    super::service::search(&state.store, app.id, user_id, &text).await.or_else(fail)
}

/// Creates a segment (or returns the one already named so, ignoring case).
/// Admins only.
#[server(endpoint = "segments/create", output = crate::codec::Json)]
pub async fn create_segment(name: String) -> Result<Segment, AppError> {
    use crate::auth::session::{fail, Caller};
    let Caller { state, app, account: admin } = Caller::admin().await?;
    super::service::create(&state.store, app.id, &name, &admin).await.or_else(fail)
}

/// Adds the user to every segment of `segment_ids` in one transaction and
/// returns all of the user's segments. Admins only.
#[server(endpoint = "segments/add", output = crate::codec::Json)]
pub async fn add_segments(user_id: i64, segment_ids: Vec<i64>) -> Result<Vec<Segment>, AppError> {
    use crate::auth::session::{fail, Caller};
    let Caller { state, app, account: admin } = Caller::admin().await?;
    super::service::add(&state.store, app.id, user_id, &segment_ids, &admin).await.or_else(fail)
}

/// Removes the user from one segment. Admins only.
#[server(endpoint = "segments/remove", output = crate::codec::Json)]
pub async fn remove_segment(user_id: i64, segment_id: i64) -> Result<(), AppError> {
    use crate::auth::session::{fail, Caller};
    let Caller { state, app, account: admin } = Caller::admin().await?;
    super::service::remove(&state.store, app.id, user_id, segment_id, &admin).await.or_else(fail)
}
