//! `PUT` and `DELETE /api/v1/users/{userID}/segments/{name}`: the customer's
//! app manages its users' segment memberships. Same name rules as the
//! console (trimmed, 1–64 characters, no control characters, unique per app
//! ignoring case); every change is audited with the actor "api".

use app::segments::service::{self, Joined};
use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::error::ApiError;
use super::{validate, ApiApp};

/// The audit trail's actor for changes made through the API.
const ACTOR: &str = "api";

/// Adds the user to the segment, creating the segment when missing.
/// Idempotent: 200 either way; `created` and `added` say what this call did.
#[tracing::instrument(skip(state, app), fields(app = app.0.id))]
pub async fn put_membership(
    State(state): State<AppState>,
    app: ApiApp,
    Path((user_id, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let user_id = validate::id("userID", user_id)?;
    let Joined { segment, created, added } =
        service::join_by_name(&state.store, app.0.id, &user_id, &name, ACTOR).await?;
    Ok(Json(json!({
        "userID": user_id,
        "segment": {"id": segment.id, "name": segment.name},
        "created": created,
        "added": added,
    })))
}

/// Removes the user from the segment: 204, or 404 when the user, the
/// segment or the membership is unknown.
#[tracing::instrument(skip(state, app), fields(app = app.0.id))]
pub async fn delete_membership(
    State(state): State<AppState>,
    app: ApiApp,
    Path((user_id, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let user_id = validate::id("userID", user_id)?;
    service::leave_by_name(&state.store, app.0.id, &user_id, &name, ACTOR).await?;
    Ok(StatusCode::NO_CONTENT)
}
