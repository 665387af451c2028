//! Jobs as plain async functions over the store: the server functions and
//! the API's routes wrap these, tests call them directly.

use super::csv_rows::ImportRow;
use super::import;
use super::model::{BulkAction, Job, JobKind, Selection};
use super::model::{JobDetail, PreviewRow, PREVIEW_ROWS, REFUSALS_SHOWN};
use crate::auth::session::SessionAdmin;
use crate::background::Jobs;
use crate::error::AppError;
use crate::model::properties::value_words;
use crate::store::{NewAudit, Store};
use crate::time::now_ms;
use crate::user_view::ListView;

/// The audit action of a job stopped by an admin.
pub const CANCELLED: &str = "cancelled job";

/// A bulk action as a form sends it (see `start_bulk`).
#[derive(Debug, Clone, Default)]
pub struct BulkRequest {
    pub action: String,
    pub view: Option<String>,
    pub ids: Option<String>,
    pub segment: Option<String>,
    pub confirmation: Option<String>,
}

impl BulkRequest {
    /// The selection and the action it asks for.
    pub fn parse(&self) -> Result<(Selection, BulkAction), AppError> {
        let segment = || {
            self.segment
                .clone()
                .filter(|name| !name.trim().is_empty())
                .ok_or_else(|| AppError::invalid("segment", "Pick or type a segment first."))
        };
        let action = match self.action.as_str() {
            "add_to_segment" => BulkAction::AddToSegment { segment: segment()? },
            "remove_from_segment" => BulkAction::RemoveFromSegment { segment: segment()? },
            "deactivate" => BulkAction::Deactivate,
            "reactivate" => BulkAction::Reactivate,
            "delete" => BulkAction::Delete { confirmation: self.confirmation.clone().unwrap_or_default() },
            other => return Err(AppError::invalid("action", format!("“{other}” is not a bulk action."))),
        };
        let ids = self.ids.as_deref().map(str::trim).filter(|ids| !ids.is_empty());
        let selection = match ids {
            Some(ids) => Selection::Users(
                ids.split(',')
                    .map(|id| id.trim().parse::<i64>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| AppError::invalid("ids", "The selected users are not a list of ids."))?,
            ),
            None => Selection::Matching(view_filter(self.view.as_deref().unwrap_or_default())?),
        };
        Ok((selection, action))
    }
}

/// The users-list view of a query string, as a filter.
fn view_filter(query: &str) -> Result<crate::model::UserFilter, AppError> {
    ListView::from_query(query).filter().map_err(|message| AppError::invalid("properties", message))
}

pub async fn start_bulk(
    store: &Store,
    jobs: &Jobs,
    app_id: i64,
    request: &BulkRequest,
    admin: &SessionAdmin,
) -> Result<Job, AppError> {
    let (selection, action) = request.parse()?;
    super::bulk::start(store, jobs, app_id, &selection, &action, admin).await
}

pub async fn count_matching(store: &Store, app_id: i64, view: &str) -> Result<i64, AppError> {
    super::selection::count_matching(store, app_id, &view_filter(view)?).await
}

fn not_found() -> AppError {
    AppError::NotFound("This job does not exist in this app.".into())
}

/// A job with its refusals and, for a checked file still on the server,
/// its preview.
pub async fn detail(store: &Store, jobs: &Jobs, app_id: i64, id: i64) -> Result<JobDetail, AppError> {
    let job = store.job(app_id, id).await?.ok_or_else(not_found)?;
    let refusals = if job.kind.reads_file() { store.job_refusals(id, REFUSALS_SHOWN).await? } else { Vec::new() };
    let preview = match job.kind {
        JobKind::ImportCheck => match import::checked_upload(store, jobs, app_id, id).await {
            Ok(upload) => import::preview(&upload, PREVIEW_ROWS).await?.into_iter().map(preview_row).collect(),
            Err(_) => Vec::new(),
        },
        _ => Vec::new(),
    };
    Ok(JobDetail { job, refusals, preview, now: now_ms() })
}

fn preview_row((line, row): (i64, Result<ImportRow, super::model::Refusal>)) -> PreviewRow {
    match row {
        Ok(row) => PreviewRow {
            line,
            user_id: row.user_id.as_str().to_string(),
            user_name: row.user_name.unwrap_or_default(),
            email: row.email.unwrap_or_default(),
            properties: row
                .properties
                .iter()
                .map(|p| format!("{}: {}", p.name, value_words(p.value.as_ref())))
                .collect::<Vec<_>>()
                .join(", "),
            refused: None,
        },
        Err(refusal) => PreviewRow {
            line,
            user_id: refusal.user_ref,
            user_name: String::new(),
            email: String::new(),
            properties: String::new(),
            refused: Some(refusal.reason),
        },
    }
}

/// Asks a job to stop (audited). 404 for another app's job, 409 for one
/// that has ended.
pub async fn cancel(store: &Store, app_id: i64, id: i64, admin: &SessionAdmin) -> Result<(), AppError> {
    let job = store.job(app_id, id).await?.ok_or_else(not_found)?;
    let now = now_ms();
    if !store.request_job_cancel(app_id, id, now).await? {
        return Err(AppError::Conflict(format!("This job has already ended ({}).", job.status.label().to_lowercase())));
    }
    let audit = NewAudit {
        app_id: Some(app_id),
        actor: &admin.email,
        action: CANCELLED,
        user_id: None,
        detail: &job.description,
    };
    store.record_audit(&audit, now).await?;
    Ok(())
}

/// Imports the file a check read.
pub async fn import_checked(
    store: &Store,
    jobs: &Jobs,
    app_id: i64,
    check: i64,
    admin: &SessionAdmin,
) -> Result<Job, AppError> {
    let upload = import::checked_upload(store, jobs, app_id, check).await?;
    import::start(store, jobs, app_id, &upload, JobKind::Import, &admin.email).await
}
