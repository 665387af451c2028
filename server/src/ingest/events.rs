//! `POST /api/v1/events`

use app::ids::ExternalId;
use app::state::AppState;
use app::store::EventInput;
use app::time::now_ms;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{ApiError, ApiJson};
use super::{validate, ApiApp};

pub const MAX_EVENTS: usize = 1000;
const MAX_DATA_BYTES: usize = 16 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    id: Option<String>,
    #[serde(rename = "type")]
    event_type: String,
    #[serde(rename = "userID")]
    user_id: Option<String>,
    #[serde(rename = "deviceID")]
    device_id: Option<String>,
    #[serde(rename = "sessionID")]
    session_id: Option<String>,
    time: Option<DateTime<Utc>>,
    data: Option<Value>,
}

/// Stores up to 1000 events all-or-nothing; events whose `id` the app already
/// has are counted as duplicates and not stored again.
#[tracing::instrument(skip(state, app, body), fields(app = app.0.id, count = body.len()))]
pub async fn post_events(
    State(state): State<AppState>,
    app: ApiApp,
    ApiJson(body): ApiJson<Vec<EventBody>>,
) -> Result<Json<Value>, ApiError> {
    if body.len() > MAX_EVENTS {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("at most {MAX_EVENTS} events per request")));
    }
    let now = now_ms();
    let mut events = Vec::with_capacity(body.len());
    for (index, event) in body.into_iter().enumerate() {
        let field = |name: &str| format!("[{index}].{name}");
        let id = |name: &str, value: Option<String>| value.map(|v| validate::id(&field(name), v)).transpose();
        let client_id = id("id", event.id)?;
        validate::required(&field("type"), &event.event_type, ExternalId::MAX_CHARS)?;
        let user_external_id = id("userID", event.user_id)?;
        let device_external_id = id("deviceID", event.device_id)?;
        if let Some(session) = &event.session_id {
            validate::required(&field("sessionID"), session, ExternalId::MAX_CHARS)?;
        }
        let occurred_at = validate::time(&field("time"), event.time, now)?;
        let data = event.data.filter(|d| !d.is_null()).map(|d| d.to_string());
        if data.as_ref().is_some_and(|d| d.len() > MAX_DATA_BYTES) {
            return Err(ApiError::invalid(field("data"), format!("data is larger than {} KiB", MAX_DATA_BYTES / 1024)));
        }
        events.push(EventInput {
            client_id,
            event_type: event.event_type,
            user_external_id,
            device_external_id,
            session_id: event.session_id,
            occurred_at,
            data,
        });
    }
    let outcome = state.store.insert_events(app.0.id, &events, now).await?;
    // Committed: now (never before) open profiles may show them.
    state.live.committed(&outcome.stored);
    Ok(Json(json!({ "accepted": outcome.accepted, "duplicates": outcome.duplicates })))
}
