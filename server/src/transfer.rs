//! Many users in and out of the console (admins only):
//! - `POST /api/users/import`: the Import page's form (multipart, works
//!   without JavaScript). The file is streamed to disk, its header checked,
//!   and a check of every row starts; the browser is sent to that job's
//!   page, or back to the form with the reason.
//! - `GET /api/users/export.csv|json?view=…&ids=…&cols=…`: the bulk Export
//!   of the ticked users (`ids`) or every user the list's view matches
//!   (`view`, its query string), streamed as it is read.

use crate::route_table::RouteTable;
use app::auth::session::{admin_of, app_chosen_in, SessionAdmin};
use app::jobs::export::{self, UsersFormat};
use app::jobs::import;
use app::jobs::model::{JobKind, Selection};
use app::model::{AppInfo, Role};
use app::profile::export::CHUNKS_IN_FLIGHT;
use app::state::AppState;
use app::user_view::ListView;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Query, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use tokio::sync::mpsc;
use tower_sessions::Session;

pub fn routes() -> RouteTable<AppState> {
    let reads = [Method::GET, Method::HEAD];
    RouteTable::default()
        .route("/users/import", &[Method::POST], post(upload).layer(DefaultBodyLimit::disable()))
        .route("/users/export.csv", &reads, get(export_csv))
        .route("/users/export.json", &reads, get(export_json))
}

pub(crate) fn refuse(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

/// The signed-in admin and the app they work on, or the answer refusing
/// them (`doing`: "export a user's data").
pub(crate) async fn console_admin(
    state: &AppState,
    session: &Session,
    doing: &str,
) -> Result<(SessionAdmin, AppInfo), Response> {
    let unavailable = || refuse(StatusCode::SERVICE_UNAVAILABLE, "The database is not available; try again.");
    let admin = match admin_of(session).await {
        Ok(Some(admin)) => admin,
        Ok(None) => return Err(refuse(StatusCode::UNAUTHORIZED, "Please sign in.")),
        Err(_) => return Err(unavailable()),
    };
    if admin.role != Role::Admin {
        return Err(refuse(StatusCode::FORBIDDEN, &format!("Only admins can {doing}.")));
    }
    let apps = state.store.list_apps().await.map_err(|_| unavailable())?;
    let Some(app) = app_chosen_in(session, &apps).await.cloned() else {
        return Err(refuse(StatusCode::NOT_FOUND, "No app yet."));
    };
    Ok((admin, app))
}

/// Back to the form with the reason in words.
fn back_to_form(message: &str) -> Response {
    let encoded: String = form_urlencoded::byte_serialize(message.as_bytes()).collect();
    Redirect::to(&format!("/users/import?error={encoded}")).into_response()
}

#[tracing::instrument(skip_all)]
async fn upload(State(state): State<AppState>, session: Session, request: Request) -> Response {
    // Who asks first: the body is read only for an admin.
    let (admin, app) = match console_admin(&state, &session, "import users").await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let mut form = match Multipart::from_request(request, &state).await {
        Ok(form) => form,
        Err(err) => return back_to_form(&format!("The upload is not a file form: {}", err.body_text())),
    };
    let field = loop {
        match form.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => break field,
            Ok(Some(_)) => continue,
            Ok(None) => return back_to_form("Choose a CSV file to import."),
            Err(err) => return back_to_form(&format!("The upload could not be read: {err}")),
        }
    };
    let jobs = &state.jobs;
    let upload = match import::receive(jobs.import_dir(), jobs.max_upload_bytes(), field).await {
        Ok(upload) => upload,
        Err(err) => return back_to_form(&err.to_string()),
    };
    match import::start(&state.store, jobs, app.id, &upload, JobKind::ImportCheck, &admin.email).await {
        Ok(job) => Redirect::to(&format!("/jobs/{}", job.id)).into_response(),
        Err(err) => {
            let _ = tokio::fs::remove_file(&upload.path).await;
            back_to_form(&err.to_string())
        }
    }
}

/// The export's query: the view, the ticked users, the property columns.
#[derive(Debug, serde::Deserialize)]
struct ExportQuery {
    #[serde(default)]
    view: String,
    #[serde(default)]
    ids: String,
    #[serde(default)]
    cols: String,
}

async fn export_csv(state: State<AppState>, session: Session, query: Query<ExportQuery>) -> Response {
    export_users(state, session, query, UsersFormat::Csv).await
}

async fn export_json(state: State<AppState>, session: Session, query: Query<ExportQuery>) -> Response {
    export_users(state, session, query, UsersFormat::Json).await
}

#[tracing::instrument(skip_all, fields(?format))]
async fn export_users(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<ExportQuery>,
    format: UsersFormat,
) -> Response {
    let (admin, app) = match console_admin(&state, &session, "export users").await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let view = ListView::from_query(&query.view);
    let selection = if query.ids.trim().is_empty() {
        match view.filter() {
            Ok(filter) => Selection::Matching(filter),
            Err(message) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, &message),
        }
    } else {
        match query.ids.split(',').map(|id| id.trim().parse::<i64>()).collect::<Result<Vec<_>, _>>() {
            Ok(ids) => Selection::Users(ids),
            Err(_) => return refuse(StatusCode::BAD_REQUEST, "ids must be a comma-separated list of user ids"),
        }
    };
    let walk = match export::start(&state.store, app.id, &selection, &admin).await {
        Ok(walk) => walk,
        Err(error) => {
            let status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return refuse(status, &error.to_string());
        }
    };
    let columns = app::model::property_filter::columns_from_param(&query.cols);
    let (out, chunks) = mpsc::channel(CHUNKS_IN_FLIGHT);
    tokio::spawn(export::write(state.store.clone(), walk, format, columns, out));
    let body = Body::from_stream(
        futures::stream::unfold(chunks, |mut chunks| async move { chunks.recv().await.map(|chunk| (chunk, chunks)) })
            .fuse(),
    );
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    let disposition = format!("attachment; filename=\"users-{stamp}.{}\"", format.extension());
    let disposition = HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment"));
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
