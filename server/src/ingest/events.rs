//! `POST /api/v1/events`

use app::ids::ExternalId;
use app::state::AppState;
use app::store::EventInput;
use app::time::now_ms;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::error::{ApiError, ApiJson};
use super::openapi as doc;
use super::{validate, ApiApp};

pub const MAX_EVENTS: usize = 1000;
const MAX_DATA_BYTES: usize = 16 * 1024;

/// One event of the app.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"id": "e-1", "type": "re.notifica.event.application.Open", "userID": "u-42",
    "deviceID": "d-1", "data": {"screen": "home"}}))]
pub struct EventBody {
    /// The client's id for the event (1–255 characters, one line): an id the
    /// app already has, or one repeated in the batch, is not stored again.
    id: Option<String>,
    /// The event's type (`re.notifica.event.application.Open`,
    /// `custom.purchase`, …): 1–255 characters, one line.
    #[serde(rename = "type")]
    event_type: String,
    /// A `userID` the app has registered.
    #[serde(rename = "userID")]
    user_id: Option<String>,
    /// A `deviceID` the app has registered; an event with a device and no
    /// user belongs to the device's user.
    #[serde(rename = "deviceID")]
    device_id: Option<String>,
    /// The client's session: 1–255 characters, one line.
    #[serde(rename = "sessionID")]
    session_id: Option<String>,
    /// When it happened (RFC 3339, between 2000-01-01 and a day from now);
    /// absent means now.
    time: Option<DateTime<Utc>>,
    /// Any JSON value, at most 16 KiB as JSON text.
    data: Option<Value>,
}

/// What a batch of events did.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"accepted": 1, "duplicates": 0}))]
pub struct EventsAccepted {
    /// The events stored by this request.
    accepted: u64,
    /// The events skipped because the app already had their `id`.
    duplicates: u64,
    /// userIDs of the batch that were merged into another user, each with
    /// the userID its events went to (absent when there were none).
    #[serde(rename = "mergedUsers", skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    #[schema(value_type = Option<Object>, example = json!({"anon-7": "acct-1"}))]
    merged_users: std::collections::BTreeMap<String, String>,
}

/// Stores up to 1,000 events, all or nothing.
///
/// Events whose `id` the app already has are counted as duplicates and not
/// stored again, so sending a batch again after a timeout or a 503 is safe
/// when its events carry ids.
#[utoipa::path(
    post,
    path = "/api/v1/events",
    tag = "events",
    request_body(content = Vec<EventBody>, description = "An array of up to 1,000 events."),
    responses(
        (status = 200, description = "The batch is stored.", body = EventsAccepted),
        (status = 400, response = doc::Malformed),
        (status = 401, response = doc::Unauthorized),
        (status = 413, description = "The body is over 2 MiB, or holds more than 1,000 events.", body = ApiError),
        (status = 422, response = doc::Invalid),
        (status = 429, response = doc::RateLimited),
        (status = 503, response = doc::Unavailable),
    ),
    security(("api_key" = [])),
)]
#[tracing::instrument(skip(state, app, body), fields(app = app.0.id, count = body.len()))]
pub async fn post_events(
    State(state): State<AppState>,
    app: ApiApp,
    ApiJson(body): ApiJson<Vec<EventBody>>,
) -> Result<Json<EventsAccepted>, ApiError> {
    let (started, count) = (std::time::Instant::now(), body.len() as u64);
    let stored = store_events(&state, &app, body).await;
    use app::metrics::{INGEST_BATCH_DURATION, INGEST_EVENTS};
    metrics::histogram!(INGEST_BATCH_DURATION).record(started.elapsed());
    match &stored {
        Ok(done) => {
            metrics::counter!(INGEST_EVENTS, "outcome" => "accepted").increment(done.accepted);
            metrics::counter!(INGEST_EVENTS, "outcome" => "duplicate").increment(done.duplicates);
        }
        Err(_) => metrics::counter!(INGEST_EVENTS, "outcome" => "refused").increment(count),
    }
    stored.map(Json)
}

/// Checks the batch and stores it, all or nothing.
async fn store_events(state: &AppState, app: &ApiApp, body: Vec<EventBody>) -> Result<EventsAccepted, ApiError> {
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
    Ok(EventsAccepted { accepted: outcome.accepted, duplicates: outcome.duplicates, merged_users: outcome.merged })
}
