//! Private messages through the ingest API (app key):
//! - `GET /api/v1/devices/{deviceID}/inbox`: the device's messages, unread
//!   first, then newest; reading marks them delivered;
//! - `POST /api/v1/devices/{deviceID}/inbox/{messageId}/open`: marks one
//!   opened (idempotent);
//! - `POST /api/v1/users/{userID}/messages` `{title, body}`: the customer's
//!   app sends one (queued for each of the user's devices).

use app::error::AppError;
use app::messages::service::{self, INBOX_LIMIT};
use app::model::messages::DeliveryStatus;
use app::state::AppState;
use app::store::{Opened, Recipient};
use app::time::now_ms;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ApiJson};
use super::openapi as doc;
use super::ApiApp;

fn unknown_device(device_id: &str) -> ApiError {
    ApiError::not_found("deviceID", format!("unknown deviceID '{device_id}'"))
}

/// A device's inbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct Inbox {
    /// Up to 100 messages: unread (not opened) first, then newest.
    messages: Vec<InboxMessage>,
}

/// A private message, as one device sees it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": 123, "title": "Your order shipped", "body": "It arrives on Tuesday.",
    "source": "api", "sender": "api", "time": "2026-11-30T16:37:12.000Z", "status": "delivered",
    "deliveredAt": "2026-11-30T16:40:02.000Z", "openedAt": null}))]
pub struct InboxMessage {
    /// The message's id (for `…/inbox/{message_id}/open`).
    id: i64,
    /// One line, 1–200 characters.
    title: String,
    /// 1–10,000 characters, line breaks kept.
    body: String,
    /// How it was sent: `dashboard`, `push mail` or `api`.
    source: String,
    /// Who sent it: the console account, the mail's sender, or `api`.
    sender: String,
    /// When it was sent (RFC 3339).
    #[schema(format = DateTime)]
    time: String,
    /// Where this device is with the message.
    #[schema(schema_with = delivery_status_schema)]
    status: DeliveryStatus,
    /// When this device first read it in its inbox; null before.
    #[schema(format = DateTime, required = true)]
    delivered_at: Option<String>,
    /// When the user opened it on this device; null before.
    #[schema(format = DateTime, required = true)]
    opened_at: Option<String>,
}

/// A message's `status`: the spellings [`DeliveryStatus`] has.
fn delivery_status_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(DeliveryStatus::ALL.map(DeliveryStatus::as_str)))
        .description(Some("`queued`: not yet read by the device; `delivered`: in an inbox the device read; `opened`."))
        .build()
}

/// The device's messages, up to 100: unread (not opened) first, then newest.
///
/// Reading the inbox marks the queued ones `delivered`. `HEAD` answers the
/// same without the body (and marks them too).
#[utoipa::path(
    method(get, head),
    path = "/api/v1/devices/{device_id}/inbox",
    tag = "messages",
    params(("device_id" = String, Path, description = "The app's id for the device (`deviceID`).")),
    responses(
        (status = 200, description = "The device's messages.", body = Inbox),
        (status = 401, response = doc::Unauthorized),
        (status = 404, description = "Unknown `deviceID`.", body = ApiError),
        (status = 429, response = doc::RateLimited),
        (status = 503, response = doc::Unavailable),
    ),
    security(("api_key" = [])),
)]
#[tracing::instrument(skip(state, app), fields(app = app.0.id))]
pub async fn get_inbox(
    State(state): State<AppState>,
    app: ApiApp,
    Path(device_id): Path<String>,
) -> Result<Json<Inbox>, ApiError> {
    let device =
        state.store.device_id_by_external_id(app.0.id, &device_id).await?.ok_or_else(|| unknown_device(&device_id))?;
    let (messages, changed_user) = state.store.read_inbox(app.0.id, device, INBOX_LIMIT, now_ms()).await?;
    if let Some(user_id) = changed_user {
        state.live.changed(::app::model::profile::BoxChanged::Messages, app.0.id, user_id);
    }
    let messages = messages
        .into_iter()
        .map(|m| InboxMessage {
            id: m.id,
            title: m.title,
            body: m.body,
            source: m.source,
            sender: m.sender,
            time: app::time::rfc3339(m.created_at),
            status: m.status,
            delivered_at: m.delivered_at.map(app::time::rfc3339),
            opened_at: m.opened_at.map(app::time::rfc3339),
        })
        .collect();
    Ok(Json(Inbox { messages }))
}

/// The message's state after `…/open`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "opened", "changed": true}))]
pub struct OpenedResponse {
    /// Always `opened`.
    status: OpenedStatus,
    /// True the first time, false after.
    changed: bool,
}

/// The status of an opened message.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OpenedStatus {
    Opened,
}

/// Marks the message opened on this device (and delivered, if it was not).
///
/// Idempotent: `changed` says whether this call changed it.
#[utoipa::path(
    post,
    path = "/api/v1/devices/{device_id}/inbox/{message_id}/open",
    tag = "messages",
    params(
        ("device_id" = String, Path, description = "The app's id for the device (`deviceID`)."),
        ("message_id" = i64, Path, description = "The message's `id`, as the inbox lists it."),
    ),
    responses(
        (status = 200, description = "The message is opened.", body = OpenedResponse),
        (status = 400, description = "`message_id` is not a number.", body = ApiError),
        (status = 401, response = doc::Unauthorized),
        (status = 404, description = "Unknown `deviceID`, or a message not in the device's inbox (`field`: `messageId`).", body = ApiError),
        (status = 429, response = doc::RateLimited),
        (status = 503, response = doc::Unavailable),
    ),
    security(("api_key" = [])),
)]
#[tracing::instrument(skip(state, app), fields(app = app.0.id))]
pub async fn open_message(
    State(state): State<AppState>,
    app: ApiApp,
    Path((device_id, message_id)): Path<(String, i64)>,
) -> Result<Json<OpenedResponse>, ApiError> {
    let device =
        state.store.device_id_by_external_id(app.0.id, &device_id).await?.ok_or_else(|| unknown_device(&device_id))?;
    match state.store.open_message(app.0.id, device, message_id, now_ms()).await? {
        Opened::NotFound => {
            Err(ApiError::not_found("messageId", format!("no message {message_id} in this device's inbox")))
        }
        Opened::Already => Ok(Json(OpenedResponse { status: OpenedStatus::Opened, changed: false })),
        Opened::Now { user_id } => {
            state.live.changed(::app::model::profile::BoxChanged::Messages, app.0.id, user_id);
            Ok(Json(OpenedResponse { status: OpenedStatus::Opened, changed: true }))
        }
    }
}

/// A private message to the user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Your order shipped", "body": "It arrives on Tuesday."}))]
pub struct MessageBody {
    /// 1–200 characters, stored as one line (control characters removed,
    /// whitespace folded).
    title: String,
    /// 1–10,000 characters; line breaks are kept.
    body: String,
}

/// The message stored.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"messageId": 123, "userID": "u-42"}))]
pub struct MessageSent {
    /// The message's id, as the devices' inboxes list it.
    #[serde(rename = "messageId")]
    message_id: i64,
    /// The user it went to: the one named, or the user a merged userID was
    /// merged into.
    #[serde(rename = "userID")]
    user_id: String,
}

/// Sends the user a private message from the app.
///
/// The message is stored with source `api`, queued for each of the user's
/// devices, audited, and shown on open profiles at once.
#[utoipa::path(
    post,
    path = "/api/v1/users/{user_id}/messages",
    tag = "messages",
    params(("user_id" = String, Path, description = "The app's id for the user (`userID`).")),
    request_body = MessageBody,
    responses(
        (status = 201, description = "The message is stored and queued.", body = MessageSent),
        (status = 400, response = doc::Malformed),
        (status = 401, response = doc::Unauthorized),
        (status = 404, description = "Unknown or deactivated `userID`.", body = ApiError),
        (status = 413, response = doc::TooLarge),
        (status = 422, response = doc::Invalid),
        (status = 429, response = doc::RateLimited),
        (status = 503, response = doc::Unavailable),
    ),
    security(("api_key" = [])),
)]
#[tracing::instrument(skip(state, app, body), fields(app = app.0.id))]
pub async fn post_message(
    State(state): State<AppState>,
    app: ApiApp,
    Path(user_id): Path<String>,
    ApiJson(body): ApiJson<MessageBody>,
) -> Result<(StatusCode, Json<MessageSent>), ApiError> {
    let from = service::Origin { source: "api", sender: "api" };
    let to = Recipient::UserId(&user_id);
    let sent =
        service::send_to(&state.store, app.0.id, to, &body.title, &body.body, from).await.map_err(|err| match err {
            AppError::NotFound(_) => ApiError::not_found("userID", format!("unknown userID '{user_id}'")),
            err => err.into(),
        })?;
    state.live.changed(::app::model::profile::BoxChanged::Messages, app.0.id, sent.user_id);
    Ok((StatusCode::CREATED, Json(MessageSent { message_id: sent.message_id, user_id: sent.external_id })))
}
