//! `GET /healthz` and `GET /readyz`, for a load balancer or an orchestrator.
//! Both are unauthenticated and cheap, and sit outside the request log, the
//! metrics and the per-client caps (a balancer asks every few seconds).
//!
//! - `/healthz`: the process answers (no database call); restart it if not.
//! - `/readyz`: send it traffic. The database answers within a second with
//!   this build's migrations applied, on PostgreSQL the live channel's
//!   LISTEN connection is up, and the instance is not shutting down.
//!   Otherwise 503 with `{"status": "unavailable", "error": reason}`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use app::live::LiveHub;
use app::store::Store;
use axum::extract::State;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::route_table::RouteTable;

/// How long `/readyz` waits for the database.
const DATABASE_DEADLINE: Duration = Duration::from_secs(1);

/// What readiness looks at.
#[derive(Clone)]
pub struct Health {
    pub store: Store,
    pub live: LiveHub,
    /// Set when shutdown begins: the balancer stops sending new requests.
    pub draining: Arc<AtomicBool>,
}

pub fn routes() -> RouteTable<Health> {
    RouteTable::default().route("/healthz", &[Method::GET, Method::HEAD], get(healthz)).route(
        "/readyz",
        &[Method::GET, Method::HEAD],
        get(readyz),
    )
}

async fn healthz() -> Response {
    answer(StatusCode::OK, json!({ "status": "ok" }))
}

async fn readyz(State(health): State<Health>) -> Response {
    match unready_reason(&health).await {
        None => answer(StatusCode::OK, json!({ "status": "ready" })),
        Some(reason) => answer(StatusCode::SERVICE_UNAVAILABLE, json!({ "status": "unavailable", "error": reason })),
    }
}

/// Why the instance should not get traffic now, if it should not.
async fn unready_reason(health: &Health) -> Option<String> {
    if health.draining.load(Ordering::Relaxed) {
        return Some("shutting down".into());
    }
    match tokio::time::timeout(DATABASE_DEADLINE, health.store.schema_behind()).await {
        Err(_) => return Some(format!("the database did not answer within {DATABASE_DEADLINE:?}")),
        Ok(Ok(Some(behind))) => return Some(behind),
        // A connection error may name hosts and users: the log has it.
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness: the database cannot be read");
            return Some("the database cannot be read".into());
        }
        Ok(Ok(None)) => {}
    }
    (!health.live.is_listening()).then(|| "the live channel's LISTEN connection is down".into())
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
