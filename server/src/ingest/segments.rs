//! `PUT` and `DELETE /api/v1/users/{userID}/segments/{name}`: the customer's
//! app manages its users' segment memberships. Same name rules as the
//! console (trimmed, 1–64 characters, no control characters, unique per app
//! ignoring case); every change is audited with the actor "api".

use app::segments::service::{self, Joined};
use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;
use super::openapi as doc;
use super::{validate, ApiApp};

/// The audit trail's actor for changes made through the API.
const ACTOR: &str = "api";

/// What a `PUT` of a membership did.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"userID": "u-42", "segment": {"id": 7, "name": "VIP Gold"}, "created": false, "added": true}))]
pub struct Membership {
    /// The app's id for the user that is in the segment: the kept user's
    /// when the path named a merged userID.
    #[serde(rename = "userID")]
    user_id: String,
    /// The segment the user is in.
    segment: SegmentRef,
    /// True when this call created the segment.
    created: bool,
    /// True when the user was not in the segment before this call.
    added: bool,
}

/// A segment of the app.
#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentRef {
    /// The console's id for the segment.
    id: i64,
    /// The segment's name as stored (its first spelling).
    name: String,
}

/// Adds the user to the segment, creating the segment when missing.
///
/// Idempotent: 200 either way; `created` and `added` say what this call did.
/// Names compare ignoring case and surrounding spaces.
#[utoipa::path(
    put,
    path = "/api/v1/users/{user_id}/segments/{name}",
    tag = "segments",
    params(
        ("user_id" = String, Path, description = "The app's id for the user (`userID`)."),
        ("name" = String, Path, description = "The segment's name, percent-encoded: trimmed, 1–64 characters, no control characters."),
    ),
    responses(
        (status = 200, description = "The user is in the segment.", body = Membership),
        (status = 401, response = doc::Unauthorized),
        (status = 404, description = "Unknown `userID`.", body = ApiError),
        (status = 422, response = doc::Invalid),
        (status = 429, response = doc::RateLimited),
        (status = 503, response = doc::Unavailable),
    ),
    security(("api_key" = [])),
)]
#[tracing::instrument(skip(state, app), fields(app = app.0.id))]
pub async fn put_membership(
    State(state): State<AppState>,
    app: ApiApp,
    Path((user_id, name)): Path<(String, String)>,
) -> Result<Json<Membership>, ApiError> {
    let user_id = validate::id("userID", user_id)?;
    let Joined { segment, created, added, user } =
        service::join_by_name(&state.store, app.0.id, &user_id, &name, ACTOR).await?;
    Ok(Json(Membership { user_id: user, segment: SegmentRef { id: segment.id, name: segment.name }, created, added }))
}

/// Removes the user from the segment; the segment stays.
///
/// 204, or 404 when the user, the segment or the membership is unknown.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{user_id}/segments/{name}",
    tag = "segments",
    params(
        ("user_id" = String, Path, description = "The app's id for the user (`userID`)."),
        ("name" = String, Path, description = "The segment's name, percent-encoded."),
    ),
    responses(
        (status = 204, description = "The user left the segment."),
        (status = 401, response = doc::Unauthorized),
        (status = 404, description = "Unknown `userID`, segment or membership.", body = ApiError),
        (status = 422, response = doc::Invalid),
        (status = 429, response = doc::RateLimited),
        (status = 503, response = doc::Unavailable),
    ),
    security(("api_key" = [])),
)]
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
