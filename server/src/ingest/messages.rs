//! Private messages through the ingest API (app key):
//! - `GET /api/v1/devices/{deviceID}/inbox`: the device's messages, unread
//!   first, then newest; reading marks them delivered;
//! - `POST /api/v1/devices/{deviceID}/inbox/{messageId}/open`: marks one
//!   opened (idempotent);
//! - `POST /api/v1/users/{userID}/messages` `{title, body}`: the customer's
//!   app sends one (queued for each of the user's devices).

use app::messages::service::{self, INBOX_LIMIT};
use app::state::AppState;
use app::store::Opened;
use app::time::now_ms;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{ApiError, ApiJson};
use super::ApiApp;

fn unknown_device(device_id: &str) -> ApiError {
    ApiError::not_found("deviceID", format!("unknown deviceID '{device_id}'"))
}

#[tracing::instrument(skip(state, app), fields(app = app.0.id))]
pub async fn get_inbox(
    State(state): State<AppState>,
    app: ApiApp,
    Path(device_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let device =
        state.store.device_id_by_external_id(app.0.id, &device_id).await?.ok_or_else(|| unknown_device(&device_id))?;
    let (messages, changed_user) = state.store.read_inbox(app.0.id, device, INBOX_LIMIT, now_ms()).await?;
    if let Some(user_id) = changed_user {
        state.live.messages_changed(app.0.id, user_id);
    }
    let messages: Vec<Value> = messages
        .into_iter()
        .map(|m| {
            json!({
                "id": m.id,
                "title": m.title,
                "body": m.body,
                "source": m.source,
                "sender": m.sender,
                "time": app::time::rfc3339(m.created_at),
                "status": m.status.as_str(),
                "deliveredAt": m.delivered_at.map(app::time::rfc3339),
                "openedAt": m.opened_at.map(app::time::rfc3339),
            })
        })
        .collect();
    Ok(Json(json!({ "messages": messages })))
}

#[tracing::instrument(skip(state, app), fields(app = app.0.id))]
pub async fn open_message(
    State(state): State<AppState>,
    app: ApiApp,
    Path((device_id, message_id)): Path<(String, i64)>,
) -> Result<Json<Value>, ApiError> {
    let device =
        state.store.device_id_by_external_id(app.0.id, &device_id).await?.ok_or_else(|| unknown_device(&device_id))?;
    match state.store.open_message(app.0.id, device, message_id, now_ms()).await? {
        Opened::NotFound => {
            Err(ApiError::not_found("messageId", format!("no message {message_id} in this device's inbox")))
        }
        Opened::Already => Ok(Json(json!({ "status": "opened", "changed": false }))),
        Opened::Now { user_id } => {
            state.live.messages_changed(app.0.id, user_id);
            Ok(Json(json!({ "status": "opened", "changed": true })))
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    title: String,
    body: String,
}

#[tracing::instrument(skip(state, app, body), fields(app = app.0.id))]
pub async fn post_message(
    State(state): State<AppState>,
    app: ApiApp,
    Path(user_id): Path<String>,
    ApiJson(body): ApiJson<MessageBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let user = state
        .store
        .user_by_external_id(app.0.id, &user_id)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| ApiError::not_found("userID", format!("unknown userID '{user_id}'")))?;
    let id = service::send(&state.store, app.0.id, user.id, &body.title, &body.body, "api", "api").await?;
    state.live.messages_changed(app.0.id, user.id);
    Ok((StatusCode::CREATED, Json(json!({ "messageId": id }))))
}
