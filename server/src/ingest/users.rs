//! `PUT /api/v1/users/{userID}`

use app::store::UserInput;
use app::time::now_ms;
use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ApiJson};
use super::{validate, ApiApp};
use app::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserBody {
    #[serde(rename = "userName")]
    user_name: Option<String>,
    email: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct UserResponse {
    #[serde(rename = "userID")]
    user_id: String,
    #[serde(rename = "userName")]
    user_name: Option<String>,
    email: Option<String>,
    active: bool,
    created: Option<DateTime<Utc>>,
    #[serde(rename = "lastSeen")]
    last_seen: Option<DateTime<Utc>>,
    /// The user's page in the console (a path on the console's origin).
    #[serde(rename = "consoleUrl")]
    console_url: String,
}

/// Creates or updates a user; absent fields keep their stored value, and
/// registering again reactivates a deactivated user.
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
    let input = UserInput { user_name: body.user_name.as_deref().map(str::trim), email };
    let user = state.store.upsert_user(app.0.id, &user_id, &input, now_ms()).await?;
    Ok(Json(UserResponse {
        user_id: user.external_id,
        user_name: user.user_name,
        email: user.email,
        active: user.active,
        created: DateTime::from_timestamp_millis(user.created_at),
        last_seen: user.last_seen_at.and_then(DateTime::from_timestamp_millis),
        console_url: format!("/users/{}", user.id),
    }))
}
