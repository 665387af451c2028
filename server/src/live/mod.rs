//! The live channel's streams, as server-sent events: one profile's
//! (`profile`) and the whole app's for the Live page (`app`). Both are
//! authorised by the session (any role may watch) and scoped to the
//! session's app; both resume with `Last-Event-ID`, end with a reconnect
//! hint when the instance shuts down, and count against the account's
//! stream cap and replay budget. See `app::live` for the fan-out behind.

mod app;
mod profile;

use std::convert::Infallible;
use std::time::Duration;

use crate::route_table::RouteTable;
use ::app::auth::session::{admin_of, app_chosen_in, SessionAdmin};
use ::app::live::{StreamRefused, RECONNECT};
use ::app::model::AppInfo;
use ::app::state::AppState;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::{Stream, StreamExt};
use tokio::sync::mpsc;
use tower_sessions::Session;

/// A comment line this often keeps proxies from closing an idle stream,
/// and lets the server notice a client gone without a word (its sockets
/// give up on unacknowledged data, see `serve`).
const KEEP_ALIVE: Duration = Duration::from_secs(10);
/// How soon a browser reconnects after a shutdown's hint.
const RECONNECT_AFTER: Duration = Duration::from_millis(250);
/// Events queued for one slow client before its stream waits.
const CLIENT_QUEUE: usize = 256;

pub fn routes() -> RouteTable<AppState> {
    RouteTable::default().route("/live/users/{id}", &[Method::GET, Method::HEAD], get(profile::user_stream)).route(
        "/live/app",
        &[Method::GET, Method::HEAD],
        get(app::app_stream),
    )
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

fn unavailable() -> Response {
    refuse(StatusCode::SERVICE_UNAVAILABLE, "The database is not available; retrying.")
}

/// The signed-in account and its chosen app, or the answer refusing the stream.
async fn caller(state: &AppState, session: &Session) -> Result<(SessionAdmin, AppInfo), Response> {
    let account = match admin_of(session).await {
        Ok(Some(account)) => account,
        Ok(None) => return Err(refuse(StatusCode::UNAUTHORIZED, "Please sign in.")),
        Err(_) => return Err(unavailable()),
    };
    let apps = match state.store.list_apps().await {
        Ok(apps) => apps,
        Err(error) => {
            tracing::warn!(%error, "live: cannot read apps");
            return Err(unavailable());
        }
    };
    let Some(app) = app_chosen_in(session, &apps).await else {
        return Err(refuse(StatusCode::NOT_FOUND, "No app yet."));
    };
    Ok((account, app.clone()))
}

/// 429 with the reason and when to try again.
fn too_many(refused: StreamRefused) -> Response {
    let limit = match refused {
        StreamRefused::ReplaysSpent(_) => "live_replay",
        _ => "live_streams",
    };
    metrics::counter!(::app::metrics::RATE_LIMITED, "limit" => limit).increment(1);
    let mut response = refuse(StatusCode::TOO_MANY_REQUESTS, &refused.message());
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(refused.retry_after_secs()));
    response
}

/// The SSE answer sending what the stream's task queues.
fn sse(events: mpsc::Receiver<Event>) -> Response {
    Sse::new(stream_of(events)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)).into_response()
}

fn stream_of(events: mpsc::Receiver<Event>) -> impl Stream<Item = Result<Event, Infallible>> {
    // Fused: a layer may poll once more after the end.
    futures::stream::unfold(events, |mut events| async move { events.recv().await.map(|e| (Ok(e), events)) }).fuse()
}

/// What a stream sends when its instance shuts down: the browser reconnects
/// at once (to another instance behind the balancer) and resumes after the
/// last id it has.
fn reconnect_hint() -> Event {
    Event::default().event(RECONNECT).retry(RECONNECT_AFTER).data("shutting down")
}
