//! `POST /api/v1/users/{userID}/merge`: identity resolution in the app's
//! back end (an anonymous id before sign-up, the account id after).

use app::merging::service;
use app::store::UNDO_WINDOW_MS;
use app::time::now_ms;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ApiJson};
use super::openapi as doc;
use super::{validate, ApiApp};
use app::state::AppState;

/// The audit trail's actor for merges made through the API.
const ACTOR: &str = "api";

/// The user to merge into.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"into": "account-981"}))]
pub struct MergeBody {
    /// The userID that keeps both users' data (a merged userID names the
    /// user it was merged into).
    into: String,
    /// Property names whose value is taken from the merged user where both
    /// users have one (otherwise the kept user's value stays).
    #[serde(default)]
    take: Vec<String>,
}

/// The merge.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"mergeId": 12, "userID": "anon-7f3a", "into": "account-981", "consoleUrl": "/users/17",
    "undoUntil": "2026-12-13T10:00:00Z", "created": true,
    "moved": {"devices": 1, "events": 240, "messages": 0, "notes": 0, "segments": 2, "properties": 3, "propertyChanges": 3}}))]
pub struct MergeResponse {
    #[serde(rename = "mergeId")]
    merge_id: i64,
    /// The merged userID: from now on an alias of `into`.
    #[serde(rename = "userID")]
    user_id: String,
    /// The userID that has the merged user's data now.
    into: String,
    /// The kept user's page in the console.
    #[serde(rename = "consoleUrl")]
    console_url: String,
    /// Until when the console can undo the merge.
    #[serde(rename = "undoUntil")]
    #[schema(required = true)]
    undo_until: Option<DateTime<Utc>>,
    /// False when the userID had been merged into this user already (nothing was done).
    created: bool,
    /// What moved to the kept user, by kind.
    #[schema(value_type = Object)]
    moved: serde_json::Value,
}

/// Merges a user into another one.
///
/// Everything of the user (devices, events, locations, segments, messages,
/// notes, properties) moves to the user named by `into`, in one
/// transaction; the user is deleted and its userID becomes an alias of the
/// kept user: later writes naming it land on the kept user. Idempotent: a
/// userID merged into the same user already answers that merge (200).
#[utoipa::path(
    post,
    path = "/api/v1/users/{user_id}/merge",
    tag = "users",
    params(("user_id" = String, Path, description = "The userID to merge away.")),
    request_body = MergeBody,
    responses(
        (status = 201, description = "The users were merged.", body = MergeResponse),
        (status = 200, description = "They were merged before: that merge.", body = MergeResponse),
        (status = 400, response = doc::Malformed),
        (status = 401, response = doc::Unauthorized),
        (status = 404, description = "Unknown `userID` or `into`.", body = ApiError),
        (status = 409, description = "The userID was merged into another user.", body = ApiError),
        (status = 422, response = doc::Invalid),
        (status = 429, response = doc::RateLimited),
        (status = 503, response = doc::Unavailable),
    ),
    security(("api_key" = [])),
)]
#[tracing::instrument(skip(state, app, body), fields(app = app.0.id))]
pub async fn post_merge(
    State(state): State<AppState>,
    app: ApiApp,
    Path(user_id): Path<String>,
    ApiJson(body): ApiJson<MergeBody>,
) -> Result<(StatusCode, Json<MergeResponse>), ApiError> {
    let merged = validate::id("userID", user_id)?;
    let into = validate::id("into", body.into)?;
    let answer =
        service::merge_by_user_ids(&state.store, app.0.id, (&merged, &into), &body.take, ACTOR, now_ms()).await?;
    let kept_id = answer.merge.kept_id;
    let moved = answer.merge.moved;
    let response = MergeResponse {
        merge_id: answer.merge.id,
        user_id: answer.merge.merged_external_id,
        console_url: format!("/users/{kept_id}"),
        into: answer.into,
        undo_until: DateTime::from_timestamp_millis(answer.merge.merged_at + UNDO_WINDOW_MS),
        created: answer.created,
        moved: serde_json::json!({
            "devices": moved.devices, "events": moved.events, "messages": moved.messages, "notes": moved.notes,
            "segments": moved.segments, "properties": moved.properties, "propertyChanges": moved.property_changes,
        }),
    };
    let status = if answer.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(response)))
}
