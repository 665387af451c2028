//! `GET /api/v1/openapi.json`: the ingest API's OpenAPI 3.1 document,
//! generated (with utoipa) from the handlers' own `#[utoipa::path]`
//! annotations and the types they read and answer, so it changes with them.
//! `server/tests/openapi.rs` fails when a route of [`super::routes`] is
//! missing from it, and CI lints it with a stock OpenAPI validator.

use std::sync::LazyLock;

use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::RefOr;
use utoipa::{Modify, OpenApi, ToResponse};

use super::error::ApiError;
use super::{devices, events, inbound_mail, messages, properties, segments, users};

/// The document, as `GET /api/v1/openapi.json` answers it.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Audience ingest API",
        version = env!("CARGO_PKG_VERSION"),
        description = "How the customer's app feeds the Audience console: users, devices, locations, events, \
            segment memberships and private messages, plus the device side of the inbox and the inbound-mail \
            webhook.\n\n\
            Every route but the webhook and this document is authenticated by an app's API key \
            (`Authorization: Bearer <key>`) and sees only that app's data. Bodies are JSON (`Content-Type` is \
            not required) and unknown fields are refused. A rejected request writes nothing; a 2xx answer is \
            sent after the data is committed, and a request answered 429 or 503 can be sent again as it was. \
            Errors are `{\"error\": \"...\", \"field\": \"...\"}`.",
    ),
    paths(
        users::put_user,
        super::merge::post_merge,
        properties::post_properties,
        super::import::post_import,
        super::import::get_job,
        devices::put_device,
        devices::post_locations,
        events::post_events,
        segments::put_membership,
        segments::delete_membership,
        messages::post_message,
        messages::get_inbox,
        messages::open_message,
        inbound_mail::post_inbound_mail,
        get_openapi,
    ),
    components(
        schemas(ApiError),
        responses(Malformed, Unauthorized, TooLarge, Invalid, RateLimited, Unavailable),
    ),
    modifiers(&SecuritySchemes, &HeadOperations),
    tags(
        (name = "users", description = "The app's users."),
        (name = "devices", description = "The app's devices and their locations."),
        (name = "events", description = "What the app's users do."),
        (name = "segments", description = "Segment memberships of the app's users."),
        (name = "messages", description = "Private messages: sent by the app, read and opened by its devices."),
        (name = "inbound mail", description = "Push Mail from a mail provider's inbound webhook."),
        (name = "openapi", description = "This document."),
    ),
)]
pub struct ApiDoc;

/// The request's body is not one JSON value: malformed JSON, or data after
/// the JSON value. Nothing was stored.
#[derive(ToResponse)]
pub struct Malformed(pub ApiError);

/// The `Authorization` header is missing, is not `Bearer <key>`, or names
/// no app's key.
#[derive(ToResponse)]
#[response(example = json!({"error": "missing API key: send `Authorization: Bearer <key>`"}))]
pub struct Unauthorized(pub ApiError);

/// The body is over its limit (2 MiB). Nothing was stored.
#[derive(ToResponse)]
pub struct TooLarge(pub ApiError);

/// A value of the wrong type or out of range, an unknown field, or an
/// unknown `userID` or `deviceID` named in the body; `field` names it.
/// Nothing was stored.
#[derive(ToResponse)]
#[response(example = json!({"error": "userID must not be empty", "field": "[3].userID"}))]
pub struct Invalid(pub ApiError);

/// Over the app's rate limit (`INGEST_RATE_PER_SEC` requests a second,
/// bursts of twice that). Nothing was stored.
#[derive(ToResponse)]
#[response(headers(("Retry-After" = u64, description = "Seconds to wait before sending the request again.")))]
pub struct RateLimited(pub ApiError);

/// The database stayed busy through every retry, or could not be reached
/// within 10 s. Nothing was stored; the request can be sent again as it was.
#[derive(ToResponse)]
#[response(headers(("Retry-After" = u64, description = "Seconds to wait before sending the request again (1 or 5).")))]
pub struct Unavailable(pub ApiError);

/// The two bearer schemes: an app's API key, and the webhook's shared secret.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(description)).build(),
            )
        };
        components.add_security_scheme(
            "api_key",
            bearer(
                "An app's API key (`server app create`, `server app rotate-key`): `Authorization: Bearer <key>`. \
                 Every route sees only that app's users, devices, segments and messages.",
            ),
        );
        components.add_security_scheme(
            "inbound_secret",
            bearer(
                "The inbound-mail webhook's shared secret (`INBOUND_MAIL_SECRET`): `Authorization: Bearer <secret>`.",
            ),
        );
    }
}

/// A `method(get, head)` path gives both methods one operation: the HEAD
/// copy gets its own operation id (ids must be unique) and answers no body.
struct HeadOperations;

impl Modify for HeadOperations {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let Some(head) = item.head.as_mut() else { continue };
            head.operation_id = head.operation_id.take().map(|id| format!("{id}_head"));
            for response in head.responses.responses.values_mut() {
                if let RefOr::T(response) = response {
                    response.content.clear();
                }
            }
        }
    }
}

/// The document as JSON, built once.
static DOCUMENT: LazyLock<Bytes> =
    LazyLock::new(|| Bytes::from(ApiDoc::openapi().to_json().expect("the OpenAPI document serialises")));

/// This document: the ingest API's OpenAPI 3.1 description. No key needed.
#[utoipa::path(
    method(get, head),
    path = "/api/v1/openapi.json",
    tag = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API.", body = Object, content_type = "application/json")),
)]
pub async fn get_openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_document_is_openapi_3_1_with_unique_operation_ids() {
        let document: serde_json::Value = serde_json::from_slice(&DOCUMENT).unwrap();
        assert_eq!(document["openapi"], "3.1.0");
        assert_eq!(document["info"]["version"], env!("CARGO_PKG_VERSION"));
        let mut ids = BTreeSet::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path}: no id"));
                assert!(ids.insert(id.to_string()), "{method} {path}: operation id {id} used twice");
            }
        }
    }
}
