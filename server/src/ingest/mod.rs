//! Ingest REST API v1: how the customer's app feeds users, devices,
//! locations and events. Every route is scoped to the app of the bearer key,
//! and a rejected request writes nothing. `GET /api/v1/openapi.json`
//! describes them all ([`openapi`]).

mod devices;
pub mod error;
pub mod events;
mod import;
mod inbound_mail;
mod merge;
mod messages;
pub mod openapi;
mod properties;
mod segments;
mod users;
mod validate;

use crate::route_table::RouteTable;
use app::auth::api_key;
use app::model::AppInfo;
use app::state::AppState;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::routing::{get, post, put};

use error::ApiError;

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

pub fn routes() -> RouteTable<AppState> {
    use Method as M;
    RouteTable::default()
        .route("/users/{user_id}", &[M::PUT], put(users::put_user))
        .route("/users/properties", &[M::POST], post(properties::post_properties))
        .route("/users/import", &[M::POST], post(import::post_import).layer(DefaultBodyLimit::disable()))
        .route("/jobs/{id}", &[M::GET, M::HEAD], get(import::get_job))
        .route(
            "/users/{user_id}/segments/{name}",
            &[M::PUT, M::DELETE],
            put(segments::put_membership).delete(segments::delete_membership),
        )
        .route("/devices/{device_id}", &[M::PUT], put(devices::put_device))
        .route("/devices/{device_id}/locations", &[M::POST], post(devices::post_locations))
        .route("/devices/{device_id}/inbox", &[M::GET, M::HEAD], get(messages::get_inbox))
        .route("/devices/{device_id}/inbox/{message_id}/open", &[M::POST], post(messages::open_message))
        .route("/users/{user_id}/messages", &[M::POST], post(messages::post_message))
        .route("/users/{user_id}/merge", &[M::POST], post(merge::post_merge))
        .route("/events", &[M::POST], post(events::post_events))
        .route("/openapi.json", &[M::GET, M::HEAD], get(openapi::get_openapi))
        .route(
            "/inbound/mail",
            &[M::POST],
            post(inbound_mail::post_inbound_mail)
                .layer(DefaultBodyLimit::max(app::messages::inbound::MAX_MESSAGE_BYTES + 64 * 1024)),
        )
        .map_router(|router| {
            router
                .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such API route") })
                .layer(DefaultBodyLimit::max(BODY_LIMIT))
        })
}

/// The app whose API key authenticated the request.
pub struct ApiApp(pub AppInfo);

impl FromRequestParts<AppState> for ApiApp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let unauthorized = |msg: &str| ApiError::new(StatusCode::UNAUTHORIZED, msg);
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| unauthorized("missing API key: send `Authorization: Bearer <key>`"))?;
        let key = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|key| !key.is_empty())
            .ok_or_else(|| unauthorized("malformed Authorization header: expected `Bearer <key>`"))?;
        let app =
            state.store.app_by_key_hash(&api_key::hash(key)).await?.ok_or_else(|| unauthorized("invalid API key"))?;
        if let Err(wait) = state.limits.check_ingest(app.id).await {
            metrics::counter!(app::metrics::RATE_LIMITED, "limit" => "ingest").increment(1);
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            return Err(ApiError {
                retry_after: Some(seconds),
                ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, format!("rate limit exceeded; retry in {seconds} s"))
            });
        }
        Ok(ApiApp(app))
    }
}
