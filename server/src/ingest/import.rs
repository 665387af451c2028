//! `POST /api/v1/users/import` (a CSV file as the body, streamed to disk,
//! any size up to the server's limit) and `GET /api/v1/jobs/{id}` (its
//! progress and, at the end, counts and refused rows).

use app::jobs::import;
use app::jobs::model::{Job, JobKind, Refusal, MAX_KEPT_REFUSALS};
use app::state::AppState;
use app::time::now_ms;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;
use super::openapi as doc;
use super::ApiApp;

/// `?dryRun=true`: check every row and write nothing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ImportQuery {
    /// Check the file only: the job's refusals say which rows would be
    /// refused; nothing is written.
    #[serde(default)]
    dry_run: bool,
}

/// A job's progress and outcome.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": 7, "kind": "import", "status": "running", "description": "Import users from a CSV file (12.0 MB)",
    "unit": "bytes", "total": 12000000, "done": 3000000, "percent": 25, "changed": 41000, "unchanged": 0, "refused": 2,
    "ratePerSec": 1500000.0, "secondsLeft": 6, "error": null, "created": "2026-12-06T10:00:00Z",
    "started": "2026-12-06T10:00:00Z", "finished": null, "refusals": []}))]
pub struct JobAnswer {
    id: i64,
    /// import, import_check, add_to_segment, remove_from_segment, deactivate, reactivate or delete.
    kind: &'static str,
    /// queued, running, done, cancelled or failed.
    status: &'static str,
    description: String,
    /// What `total` and `done` count: `bytes` of the file, or `users`.
    unit: &'static str,
    total: i64,
    done: i64,
    percent: u8,
    /// Rows imported (users created or updated), or users changed.
    changed: i64,
    /// Users a bulk action found already as asked.
    unchanged: i64,
    /// Rows refused.
    refused: i64,
    rate_per_sec: Option<f64>,
    seconds_left: Option<i64>,
    /// Why the job failed.
    error: Option<String>,
    created: Option<DateTime<Utc>>,
    started: Option<DateTime<Utc>>,
    finished: Option<DateTime<Utc>>,
    /// Refused rows by line (the header is line 1), once the job has
    /// ended: the first 1,000.
    refusals: Vec<RefusedRow>,
}

/// A row an import refused.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefusedRow {
    line: i64,
    /// The row's userID as written (may be empty).
    #[serde(rename = "userID")]
    user_id: String,
    reason: String,
}

fn answer(job: Job, refusals: Vec<Refusal>) -> JobAnswer {
    let now = now_ms();
    let at = DateTime::from_timestamp_millis;
    JobAnswer {
        id: job.id,
        kind: job.kind.as_str(),
        status: job.status.as_str(),
        unit: if job.kind.reads_file() { "bytes" } else { "users" },
        percent: job.percent(),
        rate_per_sec: job.rate_per_sec(now),
        seconds_left: job.seconds_left(now),
        total: job.total,
        done: job.done,
        changed: job.changed,
        unchanged: job.unchanged,
        refused: job.refused,
        created: at(job.created_at),
        started: job.started_at.and_then(at),
        finished: job.finished_at.and_then(at),
        description: job.description,
        error: job.error,
        refusals: refusals
            .into_iter()
            .map(|r| RefusedRow { line: r.line, user_id: r.user_ref, reason: r.reason })
            .collect(),
    }
}

/// Imports users from a CSV file (UTF-8, a header row).
///
/// Columns: `userID` (required), `userName`, `email`, and any other
/// column as a property of that name (`true`/`false`, numbers and RFC 3339
/// dates are typed, the rest is text; an empty cell changes nothing). The
/// body is the file (`Content-Type: text/csv`), streamed to the server's
/// disk, up to its limit (`IMPORT_MAX_MIB`, 2 GiB unless configured). The
/// header is checked at once (422 when it has no `userID`, names a column
/// twice or holds a reserved name); the rows are read by a background job
/// whose id the answer gives. Rows are checked as `PUT /users/{userID}`
/// checks a user; a refused row never stops the rest. Importing is keyed
/// by userID: a re-run updates, never duplicates.
#[utoipa::path(
    post,
    path = "/api/v1/users/import",
    tag = "users",
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "The CSV file."),
    responses(
        (status = 202, description = "The file is stored and its job started.", body = JobAnswer),
        (status = 400, response = doc::Malformed),
        (status = 401, response = doc::Unauthorized),
        (status = 413, response = doc::TooLarge),
        (status = 422, response = doc::Invalid),
        (status = 429, response = doc::RateLimited),
        (status = 503, response = doc::Unavailable),
    ),
    security(("api_key" = [])),
)]
#[tracing::instrument(skip(state, app, body), fields(app = app.0.id))]
pub async fn post_import(
    State(state): State<AppState>,
    app: ApiApp,
    Query(query): Query<ImportQuery>,
    body: Body,
) -> Result<(StatusCode, Json<JobAnswer>), ApiError> {
    let jobs = &state.jobs;
    let upload =
        import::receive(jobs.import_dir(), jobs.max_upload_bytes(), body.into_data_stream()).await.map_err(|err| {
            match err {
                import::UploadError::TooLarge { .. } => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, err.to_string()),
                import::UploadError::Header(message) => ApiError::invalid("body", message),
                import::UploadError::Interrupted(message) => ApiError::new(StatusCode::BAD_REQUEST, message),
                import::UploadError::Storage(message) => {
                    tracing::error!("cannot store an upload: {message}");
                    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the file cannot be stored; nothing was imported")
                }
            }
        })?;
    let kind = if query.dry_run { JobKind::ImportCheck } else { JobKind::Import };
    let job = match import::start(&state.store, jobs, app.0.id, &upload, kind, app::model::properties::BY_API).await {
        Ok(job) => job,
        Err(err) => {
            let _ = tokio::fs::remove_file(&upload.path).await;
            return Err(err.into());
        }
    };
    Ok((StatusCode::ACCEPTED, Json(answer(job, Vec::new()))))
}

/// A job's progress; once it has ended, its counts and refused rows.
#[utoipa::path(
    method(get, head),
    path = "/api/v1/jobs/{id}",
    tag = "users",
    params(("id" = i64, Path, description = "The job's id, as the import answered.")),
    responses(
        (status = 200, description = "The job.", body = JobAnswer),
        (status = 401, response = doc::Unauthorized),
        (status = 404, description = "No such job in this app.", body = ApiError),
        (status = 503, response = doc::Unavailable),
    ),
    security(("api_key" = [])),
)]
#[tracing::instrument(skip(state, app), fields(app = app.0.id))]
pub async fn get_job(
    State(state): State<AppState>,
    app: ApiApp,
    Path(id): Path<i64>,
) -> Result<Json<JobAnswer>, ApiError> {
    let job = state
        .store
        .job(app.0.id, id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such job in this app"))?;
    let refusals = if job.status.is_finished() && job.kind.reads_file() {
        state.store.job_refusals(id, MAX_KEPT_REFUSALS).await?
    } else {
        Vec::new()
    };
    Ok(Json(answer(job, refusals)))
}
