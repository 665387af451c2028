//! Server functions of the activity boxes: a session (viewers too) and the
//! session's app, then one service call.

use leptos::prelude::*;

use super::model::{ActivityEvent, EventsPage, Histogram, TimelinePage};
use crate::error::AppError;

/// The user's events of the last hour, newest first.
#[server(endpoint = "activity/recent", output = crate::codec::Json)]
pub async fn recent_activity(user_id: i64) -> Result<Vec<ActivityEvent>, AppError> {
    use crate::auth::session::{fail, Caller};
    let caller = Caller::viewer().await?;
    let events = super::service::recent(&caller.state.store, caller.app.id, user_id).await.or_else(fail)?;
    caller.viewed(user_id, crate::model::profile::Viewed::Activity).await.or_else(fail)?;
    Ok(events)
}

/// One page of the event search: `from` / `to` (times or a preset, see
/// [`super::model::SearchParams`]), `event_type`, `text`, and the previous page's `cursor`.
#[server(endpoint = "activity/search", output = crate::codec::Json)]
pub async fn search_activity(
    user_id: i64,
    from: Option<String>,
    to: Option<String>,
    event_type: Option<String>,
    text: Option<String>,
    cursor: Option<String>,
) -> Result<EventsPage, AppError> {
    use crate::auth::session::{fail, Caller};
    let caller = Caller::viewer().await?;
    let params = super::model::SearchParams { from, to, event_type, text };
    let store = &caller.state.store;
    let page = super::service::search(store, caller.app.id, user_id, &params, cursor.as_deref()).await.or_else(fail)?;
    caller.viewed(user_id, crate::model::profile::Viewed::Activity).await.or_else(fail)?;
    Ok(page)
}

/// Counts per minute, hour or day of the searched period.
#[server(endpoint = "activity/histogram", output = crate::codec::Json)]
pub async fn activity_histogram(
    user_id: i64,
    from: Option<String>,
    to: Option<String>,
    event_type: Option<String>,
    text: Option<String>,
) -> Result<Histogram, AppError> {
    use crate::auth::session::{fail, Caller};
    let caller = Caller::viewer().await?;
    let params = super::model::SearchParams { from, to, event_type, text };
    let histogram =
        super::service::histogram(&caller.state.store, caller.app.id, user_id, &params).await.or_else(fail)?;
    caller.viewed(user_id, crate::model::profile::Viewed::Activity).await.or_else(fail)?;
    Ok(histogram)
}

/// The event types seen in the session's app (the type filter's choices).
#[server(endpoint = "activity/types", output = crate::codec::Json)]
pub async fn activity_types() -> Result<Vec<String>, AppError> {
    use crate::auth::session::{fail, Caller};
    let Caller { state, app, .. } = Caller::viewer().await?;
    super::service::types(&state.store, app.id).await.or_else(fail)
}

/// One page of the unified timeline (events, messages, audit), newest first.
#[server(endpoint = "activity/timeline", output = crate::codec::Json)]
pub async fn activity_timeline(user_id: i64, cursor: Option<String>) -> Result<TimelinePage, AppError> {
    use crate::auth::session::{fail, Caller};
    let caller = Caller::viewer().await?;
    let store = &caller.state.store;
    let page = super::service::timeline(store, caller.app.id, user_id, cursor.as_deref()).await.or_else(fail)?;
    caller.viewed(user_id, crate::model::profile::Viewed::Activity).await.or_else(fail)?;
    Ok(page)
}
