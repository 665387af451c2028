//! `GET /api/users/{id}/export` (everything about the user, JSON) and
//! `GET /api/users/{id}/events.csv`: the profile's Options > Export.
//! Admins only (viewers do not export; see docs/SECURITY.md). The file streams as the
//! database is read (`app::profile::export`); each export is audited first.

use crate::route_table::RouteTable;
use app::profile::export::{file_name, start_export, write_export, ExportFormat, CHUNKS_IN_FLIGHT};
use app::profile::service::push_address;
use app::state::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::StreamExt;
use tokio::sync::mpsc;
use tower_sessions::Session;

pub fn routes() -> RouteTable<AppState> {
    let reads = [Method::GET, Method::HEAD];
    RouteTable::default().route("/users/{id}/export", &reads, get(export_json)).route(
        "/users/{id}/events.csv",
        &reads,
        get(export_events_csv),
    )
}

async fn export_json(state: State<AppState>, session: Session, id: Path<i64>) -> Response {
    export(state, session, id, ExportFormat::Json).await
}

async fn export_events_csv(state: State<AppState>, session: Session, id: Path<i64>) -> Response {
    export(state, session, id, ExportFormat::EventsCsv).await
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

#[tracing::instrument(skip_all, fields(user_id = id.0, ?format))]
async fn export(state: State<AppState>, session: Session, id: Path<i64>, format: ExportFormat) -> Response {
    let (State(state), Path(user_id)) = (state, id);
    let (admin, app) = match crate::transfer::console_admin(&state, &session, "export a user's data").await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let user = match start_export(&state.store, app.id, user_id, format, &admin).await {
        Ok(user) => user,
        Err(error) => {
            let status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return refuse(status, &error.to_string());
        }
    };
    let push_mail = match state.store.push_token_of(app.id, user_id).await {
        Ok(token) => token.map(|t| push_address(&t, &state.pushmail_domain)),
        Err(_) => return refuse(StatusCode::SERVICE_UNAVAILABLE, "The database is not available; try again."),
    };
    let name = file_name(&user.external_id, format, app::time::now_ms());
    let (out, chunks) = mpsc::channel(CHUNKS_IN_FLIGHT);
    tokio::spawn(write_export(state.store.clone(), user, push_mail, format, out));
    // Fused: the compression layer polls once more after the end.
    let body = Body::from_stream(
        futures::stream::unfold(chunks, |mut chunks| async move { chunks.recv().await.map(|chunk| (chunk, chunks)) })
            .fuse(),
    );
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(format.content_type())),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}
