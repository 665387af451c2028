//! `PUT /api/v1/users/{userID}`

use app::model::properties::BY_API;
use app::store::UserInput;
use app::time::now_ms;
use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ApiJson};
use super::openapi as doc;
use super::properties::{self, PropertiesBody};
use super::{validate, ApiApp};
use app::state::AppState;

/// A user's profile. Absent fields keep their stored value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"userName": "Zoë", "email": "zoe@example.com"}))]
pub struct UserBody {
    /// The user's name: at most 255 characters, one line.
    #[serde(rename = "userName")]
    user_name: Option<String>,
    /// The user's email address (at most 320 characters, `local@domain.tld`);
    /// a blank one counts as absent.
    email: Option<String>,
    /// Typed attributes, merged into the stored ones: name → value, where a
    /// value is a string (≤ 1,000 characters; one in RFC 3339 form becomes
    /// a date), a finite number or a boolean, and `null` removes the
    /// property. Names are 1–64 letters, digits, `_`, `-`, `.` (not
    /// starting with `$`); a user holds at most 100. Each change is kept
    /// in the user's property history.
    #[schema(value_type = Option<Object>, example = json!({"plan": "pro", "seats": 3, "trial": false}))]
    properties: Option<PropertiesBody>,
}

/// The user as stored.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"userID": "u-42", "userName": "Zoë", "email": "zoe@example.com", "active": true,
    "created": "2026-11-28T10:00:00Z", "lastSeen": "2026-11-30T16:37:00Z", "consoleUrl": "/users/17",
    "propertiesChanged": 0}))]
pub struct UserResponse {
    /// The app's id for the user.
    #[serde(rename = "userID")]
    user_id: String,
    /// The user's name, if known.
    #[serde(rename = "userName")]
    #[schema(required = true)]
    user_name: Option<String>,
    /// The user's email address, if known.
    #[schema(required = true)]
    email: Option<String>,
    /// False for a deactivated user (registering the user again reactivates it).
    active: bool,
    /// When the console first heard of the user.
    #[schema(required = true)]
    created: Option<DateTime<Utc>>,
    /// The minute of the user's newest event; null before the first.
    #[serde(rename = "lastSeen")]
    #[schema(required = true)]
    last_seen: Option<DateTime<Utc>>,
    /// The user's page in the console (a path on the console's origin).
    #[serde(rename = "consoleUrl")]
    console_url: String,
    /// Property values this request changed.
    #[serde(rename = "propertiesChanged")]
    properties_changed: usize,
}

/// Creates or updates a user.
///
/// Absent fields keep their stored value, and registering again reactivates
/// a deactivated user.
#[utoipa::path(
    put,
    path = "/api/v1/users/{user_id}",
    tag = "users",
    params(("user_id" = String, Path, description = "The app's id for the user (`userID`): 1–255 characters, one line.")),
    request_body = UserBody,
    responses(
        (status = 200, description = "The user, created or updated.", body = UserResponse),
        (status = 400, response = doc::Malformed),
        (status = 401, response = doc::Unauthorized),
        (status = 413, response = doc::TooLarge),
        (status = 422, response = doc::Invalid),
        (status = 429, response = doc::RateLimited),
        (status = 503, response = doc::Unavailable),
    ),
    security(("api_key" = [])),
)]
#[tracing::instrument(skip(state, app, body), fields(app = app.0.id))]
pub async fn put_user(
    State(state): State<AppState>,
    app: ApiApp,
    Path(user_id): Path<String>,
    ApiJson(body): ApiJson<UserBody>,
) -> Result<Json<UserResponse>, ApiError> {
    let user_id = validate::id("userID", user_id)?;
    validate::opt_text("userName", body.user_name.as_deref(), validate::MAX_TEXT)?;
    let email = body.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
    if let Some(email) = email {
        validate::email("email", email)?;
    }
    let changes = match &body.properties {
        Some(properties) => properties::changes("properties", properties)?,
        None => Vec::new(),
    };
    let input = UserInput { user_name: body.user_name.as_deref().map(str::trim), email };
    let (user, properties_changed) =
        state.store.upsert_user_with_properties(app.0.id, &user_id, &input, &changes, BY_API, now_ms()).await?;
    Ok(Json(UserResponse {
        user_id: user.external_id,
        user_name: user.user_name,
        email: user.email,
        active: user.active,
        created: DateTime::from_timestamp_millis(user.created_at),
        last_seen: user.last_seen_at.and_then(DateTime::from_timestamp_millis),
        console_url: format!("/users/{}", user.id),
        properties_changed,
    }))
}
