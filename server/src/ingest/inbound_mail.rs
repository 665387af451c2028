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
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;

#[derive(Debug, Deserialize)]
pub struct Recipient {
    /// The Push Mail address; default: the first To/Cc/Delivered-To address on our domain.
    to: Option<String>,
}

#[tracing::instrument(skip_all)]
pub async fn post_inbound_mail(
    State(state): State<AppState>,
    Query(query): Query<Recipient>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
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
        state.live.messages_changed(message.app_id, message.user_id);
    }
    let id = stored.first().map(|m| m.id);
    Ok((StatusCode::CREATED, Json(json!({ "messageId": id }))))
}

fn inbound_error(err: InboundError) -> ApiError {
    match err {
        InboundError::UnknownRecipient => ApiError::not_found("to", "no such Push Mail address"),
        InboundError::Unparseable => ApiError::invalid("body", err.to_string()),
        InboundError::TooLarge => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, err.to_string()),
        InboundError::Store(store) => store.into(),
    }
}
