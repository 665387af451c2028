//! Server functions of jobs: session and role check, then one service
//! call. Every argument is a plain form field, so the bulk actions and the
//! import's confirmation work as forms without JavaScript too.

use leptos::prelude::*;

use super::model::{Job, JobDetail};
use crate::error::AppError;

/// The current app's recent jobs, newest first.
#[server(endpoint = "jobs/list", output = crate::codec::Json)]
pub async fn list_jobs() -> Result<(Vec<Job>, i64), AppError> {
    use crate::auth::session::{fail, Caller};
    let caller = Caller::viewer().await?;
    let jobs = caller.state.store.recent_jobs(caller.app.id, super::model::RECENT_JOBS).await.map_err(AppError::from);
    Ok((jobs.or_else(fail)?, crate::time::now_ms()))
}

/// One of the current app's jobs, with its refusals and, for a checked
/// file, the preview.
#[server(endpoint = "jobs/get", output = crate::codec::Json)]
pub async fn get_job(id: i64) -> Result<JobDetail, AppError> {
    use crate::auth::session::{fail, Caller};
    let caller = Caller::viewer().await?;
    super::service::detail(&caller.state.store, &caller.state.jobs, caller.app.id, id).await.or_else(fail)
}

/// Stops a job after its current chunk (what is done stays done). Admins only.
#[server(endpoint = "jobs/cancel", output = crate::codec::Json)]
pub async fn cancel_job(id: i64) -> Result<(), AppError> {
    use crate::auth::session::{fail, Caller};
    let Caller { state, app, account: admin } = Caller::admin().await?;
    super::service::cancel(&state.store, app.id, id, &admin).await.or_else(fail)
}

/// Starts a bulk action (`action`: add_to_segment, remove_from_segment,
/// deactivate, reactivate, delete) on the ticked users `ids` (comma
/// separated), or, without any, on every user the list's view `view` (its
/// query string) matches. `segment` names the segment to add to (created
/// when missing) or remove from; `confirmation` is the number of users a
/// deletion was confirmed for. Admins only.
#[server(endpoint = "jobs/bulk", output = crate::codec::Json)]
pub async fn start_bulk(
    action: String,
    view: Option<String>,
    ids: Option<String>,
    segment: Option<String>,
    confirmation: Option<String>,
) -> Result<Job, AppError> {
    use crate::auth::session::{fail, Caller};
    let Caller { state, app, account: admin } = Caller::admin().await?;
    let request = super::service::BulkRequest { action, view, ids, segment, confirmation };
    let job = super::service::start_bulk(&state.store, &state.jobs, app.id, &request, &admin).await.or_else(fail)?;
    state.jobs.wake();
    Ok(job)
}

/// How many users the view (`view`, the list's query string) matches,
/// counted exactly (a deletion is confirmed with this number). Admins only.
#[server(endpoint = "jobs/count", output = crate::codec::Json)]
pub async fn count_matching(view: String) -> Result<i64, AppError> {
    use crate::auth::session::{fail, Caller};
    let Caller { state, app, .. } = Caller::admin().await?;
    super::service::count_matching(&state.store, app.id, &view).await.or_else(fail)
}

/// Imports a file a check has read (the preview's "Import"). Admins only.
#[server(endpoint = "jobs/import", output = crate::codec::Json)]
pub async fn import_checked(check: i64) -> Result<Job, AppError> {
    use crate::auth::session::{fail, Caller};
    let Caller { state, app, account: admin } = Caller::admin().await?;
    super::service::import_checked(&state.store, &state.jobs, app.id, check, &admin).await.or_else(fail)
}

/// Refusals of `refused` rows in words, for a job's page ("the first 200
/// of 1,234").
pub fn refusals_words(shown: usize, refused: i64) -> String {
    use crate::model::properties::grouped;
    if shown as i64 >= refused {
        let noun = if refused == 1 { "row" } else { "rows" };
        format!("{} refused {noun}", grouped(refused as f64))
    } else {
        format!("The first {} of {} refused rows", grouped(shown as f64), grouped(refused as f64))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn refusal_counts_in_words() {
        assert_eq!(super::refusals_words(3, 3), "3 refused rows");
        assert_eq!(super::refusals_words(1, 1), "1 refused row");
        assert_eq!(super::refusals_words(200, 1_234), "The first 200 of 1,234 refused rows");
    }
}
