//! `POST /api/v1/inbound/mail`: a raw RFC 5322 message, as mail providers'
//! inbound webhooks post it, for a Push Mail address. Authenticated by the
//! configured shared secret (`INBOUND_MAIL_SECRET`), not an app key.

use app::auth::api_key;
use app::messages::inbound::{self, InboundError};
use app::state::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Recipient {
    /// The Push Mail address; default: the first Delivered-To, To or Cc
    /// address on the Push Mail domain.
    to: Option<String>,
}

/// The message stored.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"messageId": 124}))]
pub struct MailStored {
    /// The private message's id.
    #[serde(rename = "messageId")]
    #[schema(required = true)]
    message_id: Option<i64>,
}

/// A Push Mail message from a mail provider's inbound webhook.
///
/// The message becomes a private message of the address's user: subject →
/// title, text/plain (or HTML as text) → body, From → sender, attachments
/// listed by name and size. Authenticated by the shared secret
/// `INBOUND_MAIL_SECRET`, not by an app key.
#[utoipa::path(
    post,
    path = "/api/v1/inbound/mail",
    tag = "inbound mail",
    params(Recipient),
    request_body(
        content = String,
        content_type = "message/rfc822",
        description = "The raw RFC 5322 message, up to 10 MiB.",
    ),
    responses(
        (status = 201, description = "Stored, and queued for the user's devices.", body = MailStored),
        (status = 401, description = "The secret is missing or wrong.", body = ApiError),
        (status = 404, description = "No live Push Mail address of that name (`field`: `to`).", body = ApiError),
        (status = 413, description = "The message is over 10 MiB.", body = ApiError),
        (status = 422, description = "No recipient on the Push Mail domain (`to`), or a message that cannot be parsed (`body`).", body = ApiError),
        (status = 503, description = "`INBOUND_MAIL_SECRET` is not set; or the database stayed busy or could not be reached, and nothing was stored.",
            body = ApiError,
            headers(("Retry-After" = u64, description = "Seconds to wait before sending the message again (not sent when inbound mail is not configured)."))),
    ),
    security(("inbound_secret" = [])),
)]
#[tracing::instrument(skip_all)]
pub async fn post_inbound_mail(
    State(state): State<AppState>,
    Query(query): Query<Recipient>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<MailStored>), ApiError> {
    let Some(expected) = &state.inbound_secret_hash else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "inbound mail is not configured (INBOUND_MAIL_SECRET)",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(api_key::hash);
    if given.as_ref() != Some(expected) {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "missing or wrong inbound mail secret"));
    }
    let domain = &state.pushmail_domain;
    let candidates = match query.to {
        Some(to) => vec![to],
        None => inbound::header_recipients(&body),
    };
    let token = candidates
        .iter()
        .find_map(|a| inbound::token_of(a, domain))
        .ok_or_else(|| ApiError::invalid("to", format!("no recipient on {domain}")))?;
    let stored = inbound::deliver(&state.store, &[token], &body, None).await.map_err(inbound_error)?;
    for message in &stored {
        state.live.changed(::app::model::profile::BoxChanged::Messages, message.app_id, message.user_id);
    }
    let id = stored.first().map(|m| m.id);
    Ok((StatusCode::CREATED, Json(MailStored { message_id: id })))
}

fn inbound_error(err: InboundError) -> ApiError {
    match err {
        InboundError::UnknownRecipient => ApiError::not_found("to", "no such Push Mail address"),
        InboundError::Unparseable => ApiError::invalid("body", err.to_string()),
        InboundError::TooLarge => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, err.to_string()),
        InboundError::Store(store) => store.into(),
    }
}
