//! Bulk actions on users as jobs. Starting one checks the request and
//! records the selection: ticked users at once, "all matching" as the
//! job's first steps (the view read in creation order, newest first, which
//! users cannot move in, so none is read twice or skipped; users created
//! after the job started come before the walk's start and are left out).
//! Then each step acts on a chunk of the selection in one transaction
//! with its audit rows, and drops that chunk: a chunk's effect happens
//! once, however often the job is resumed.

use serde::{Deserialize, Serialize};

use super::model::{BulkAction, Job, JobKind, Selection, MAX_TICKED};
use super::selection::{matching_round, too_many_ticked, who_words};
use super::step::Step;
use crate::auth::session::SessionAdmin;
use crate::background::Jobs;
use crate::error::AppError;
use crate::model::properties::grouped;
use crate::model::users::UserScope;
use crate::model::{UserFilter, UserSort};
use crate::profile::lifecycle;
use crate::segments::service as segments;
use crate::store::{write_tx, BulkAudit, ChunkDone, ClaimedJob, NewJob, Store, StoreError};
use crate::time::now_ms;
use crate::user_view::{decode_cursor, resolve_scope};

/// Users a deletion erases per chunk at most: each user's rows are erased
/// one by one.
const DELETE_CHUNK: i64 = 50;

/// Users a chunk of a `kind` job acts on, for a runner whose chunks hold
/// `chunk` users: the selection is stored in blocks of this size.
fn chunk_size(kind: JobKind, chunk: i64) -> usize {
    let size = if kind == JobKind::Delete { chunk.min(DELETE_CHUNK) } else { chunk };
    size.max(1) as usize
}

/// A bulk job's settings (`jobs.params`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BulkParams {
    /// The view, for "all matching" (read in creation order).
    filter: Option<UserFilter>,
    /// The view's segment and activity window, resolved when it started.
    scope_segment: Option<i64>,
    active_since: Option<i64>,
    /// The segment acted on: (id, name).
    segment: Option<(i64, String)>,
    /// Delete: the number of users the admin confirmed.
    confirmed: Option<i64>,
}

/// Where a bulk job is (`jobs.position`).
#[derive(Debug, Clone, Serialize, Deserialize)]
enum BulkPosition {
    /// Reading the view: the cursor the next round starts after, and the
    /// next selection row's number.
    Selecting {
        after: Option<String>,
        next_seq: i64,
    },
    Acting,
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serializes")
}

/// Starts a bulk action for `jobs`' runners; the job as created (its
/// selection may still be being read). Ticked users are stored in blocks
/// of the runners' chunk size, as a view's selection is when it is read.
#[tracing::instrument(skip(store, jobs, admin, selection), fields(action = ?action.kind()))]
pub async fn start(
    store: &Store,
    jobs: &Jobs,
    app_id: i64,
    selection: &Selection,
    action: &BulkAction,
    admin: &SessionAdmin,
) -> Result<Job, AppError> {
    let (filter, scope) = match selection {
        Selection::Users(ids) if ids.is_empty() => {
            return Err(AppError::invalid("selection", "Select at least one user."));
        }
        Selection::Users(ids) if ids.len() > MAX_TICKED => return Err(too_many_ticked()),
        Selection::Users(_) => (None, UserScope::default()),
        Selection::Matching(filter) => {
            let scope = resolve_scope(store, app_id, filter).await?;
            (Some(UserFilter { sort: UserSort::Created, ..filter.clone() }), scope)
        }
    };
    let ticked = match selection {
        Selection::Users(ids) => Some(store.users_in_app(app_id, ids).await?.iter().map(|u| u.id).collect::<Vec<_>>()),
        Selection::Matching(_) => None,
    };
    let confirmed = match action {
        BulkAction::Delete { confirmation } => {
            let typed: Option<i64> = confirmation.trim().replace([',', ' '], "").parse().ok();
            let Some(typed) = typed else {
                return Err(AppError::invalid("confirmation", "Type the number of users to delete."));
            };
            if let Some(ids) = &ticked {
                if typed != ids.len() as i64 {
                    return Err(AppError::invalid(
                        "confirmation",
                        format!("Type {} to delete {} users.", ids.len(), ids.len()),
                    ));
                }
            }
            Some(typed)
        }
        _ => None,
    };
    let segment = match action {
        BulkAction::AddToSegment { segment } => {
            let (segment, _) = segments::create_as(store, app_id, segment, &admin.email).await?;
            Some((segment.id, segment.name))
        }
        BulkAction::RemoveFromSegment { segment } => {
            let found = store.segment_by_name(app_id, segment).await?.ok_or_else(|| {
                AppError::NotFound(format!("There is no segment named “{}” in this app.", segment.trim()))
            })?;
            Some((found.id, found.name))
        }
        _ => None,
    };
    let description = describe(action.kind(), segment.as_ref().map(|(_, name)| name.as_str()), selection);
    let params =
        BulkParams { filter, scope_segment: scope.segment, active_since: scope.active_since, segment, confirmed };
    let params = to_json(&params);
    let now = now_ms();
    let id = match &ticked {
        Some(ids) => write_tx!(store, |tx| {
            let position = to_json(&BulkPosition::Acting);
            let job = NewJob {
                app_id,
                kind: action.kind(),
                actor: &admin.email,
                description: &description,
                params: &params,
                total: ids.len() as i64,
                position: Some(&position),
                owner: None,
            };
            let id = tx.create_job(&job, now).await?;
            tx.add_job_users(id, 0, ids, chunk_size(action.kind(), jobs.config().chunk_users)).await?;
            Ok(id)
        })?,
        None => {
            let position = to_json(&BulkPosition::Selecting { after: None, next_seq: 0 });
            let job = NewJob {
                app_id,
                kind: action.kind(),
                actor: &admin.email,
                description: &description,
                params: &params,
                total: 0,
                position: Some(&position),
                owner: None,
            };
            store.create_job(&job, now).await?
        }
    };
    tracing::info!(job = id, "bulk job started");
    store.job(app_id, id).await?.ok_or(AppError::Internal)
}

/// "Add to segment “VIP”: everyone matching “ana”".
fn describe(kind: JobKind, segment: Option<&str>, selection: &Selection) -> String {
    let action = match (kind, segment) {
        (JobKind::AddToSegment, Some(name)) => format!("Add to segment “{name}”"),
        (JobKind::RemoveFromSegment, Some(name)) => format!("Remove from segment “{name}”"),
        (JobKind::Deactivate, _) => "Deactivate".into(),
        (JobKind::Reactivate, _) => "Reactivate".into(),
        _ => "Delete".into(),
    };
    format!("{action}: {}", who_words(selection))
}

/// A claimed bulk job, stepping through its selection.
pub(crate) struct BulkWork {
    job: Job,
    params: BulkParams,
    position: BulkPosition,
    /// Users per chunk.
    chunk: i64,
    /// The `seq` of the last selection row acted on by this runner (-1
    /// before the first): the next chunk is read from just after it, not
    /// from the start of the selection over the rows earlier chunks deleted.
    acted_through: i64,
    /// The job's `done` as this runner last wrote it (see
    /// [`crate::store::WriteTx::hold_job`]).
    done: i64,
}

impl BulkWork {
    pub(crate) fn open(claimed: ClaimedJob, chunk: i64) -> Result<BulkWork, String> {
        let params: BulkParams = serde_json::from_str(&claimed.params)
            .map_err(|err| format!("the job's settings are not readable: {err}"))?;
        let position = match claimed.position.as_deref() {
            Some(text) => {
                serde_json::from_str(text).map_err(|err| format!("the job's position is not readable: {err}"))?
            }
            None => BulkPosition::Acting,
        };
        let done = claimed.job.done;
        Ok(BulkWork { job: claimed.job, params, position, chunk: chunk.max(1), acted_through: -1, done })
    }

    pub(crate) fn app_id(&self) -> i64 {
        self.job.app_id
    }

    pub(crate) async fn step(&mut self, store: &Store, owner: &str) -> Result<Step, StoreError> {
        match self.position.clone() {
            BulkPosition::Selecting { after, next_seq } => self.select(store, owner, after, next_seq).await,
            BulkPosition::Acting => self.act(store, owner).await,
        }
    }

    /// Reads one round of the view into the selection.
    async fn select(
        &mut self,
        store: &Store,
        owner: &str,
        after: Option<String>,
        next_seq: i64,
    ) -> Result<Step, StoreError> {
        let Some(filter) = self.params.filter.clone() else {
            return Ok(Step::Failed("the job has no view to read".into()));
        };
        let after = match after.as_deref().map(|cursor| decode_cursor(filter.sort, cursor)).transpose() {
            Ok(after) => after,
            Err(_) => return Ok(Step::Failed("the job's position is not readable".into())),
        };
        let scope = UserScope { segment: self.params.scope_segment, active_since: self.params.active_since };
        let (users, next) = matching_round(store, self.job.app_id, &filter, scope, after).await?;
        let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
        let total = next_seq + ids.len() as i64;
        let position = match &next {
            Some(cursor) => BulkPosition::Selecting { after: Some(cursor.clone()), next_seq: total },
            None => BulkPosition::Acting,
        };
        let position_text = to_json(&position);
        let (job_id, now, done) = (self.job.id, now_ms(), self.done);
        let block = chunk_size(self.job.kind, self.chunk);
        let held = write_tx!(store, |tx| {
            if !tx.hold_job(job_id, owner, now, done).await? {
                return Ok(false);
            }
            tx.add_job_users(job_id, next_seq, &ids, block).await?;
            tx.set_job_total(job_id, total).await?;
            tx.advance_job(job_id, &ChunkDone { position: Some(&position_text), ..ChunkDone::default() }).await?;
            Ok(true)
        })?;
        if !held {
            return Ok(Step::Lost);
        }
        self.position = position;
        if matches!(self.position, BulkPosition::Acting) {
            if let Some(confirmed) = self.params.confirmed.filter(|&confirmed| confirmed != total) {
                return Ok(Step::Failed(format!(
                    "The view holds {} users now, not the {} confirmed; nobody was deleted. Start again to delete them.",
                    grouped(total as f64),
                    grouped(confirmed as f64)
                )));
            }
        }
        Ok(Step::More)
    }

    /// Acts on the next chunk of the selection.
    async fn act(&mut self, store: &Store, owner: &str) -> Result<Step, StoreError> {
        let (job_id, app_id, now) = (self.job.id, self.job.app_id, now_ms());
        let kind = self.job.kind;
        let actor = self.job.actor.clone();
        let segment = self.params.segment.clone();
        let (after, done_before) = (self.acted_through, self.done);
        let (step, last) = write_tx!(store, |tx| {
            if !tx.hold_job(job_id, owner, now, done_before).await? {
                return Ok((Step::Lost, None));
            }
            tx.commit_without_flush_wait().await?;
            let Some((last_seq, block)) = tx.next_job_block(job_id, after).await? else {
                return Ok((Step::Finished, None));
            };
            let rows = block.len() as i64;
            // The chunk's users stay until it commits: it writes audit rows
            // (and memberships) naming users it locks no row of. A deletion
            // is itself a removal, which takes the lock shared per user.
            if kind != JobKind::Delete {
                tx.hold_off_removals(app_id).await?;
            }
            let users = tx.users_of_app(app_id, &block).await?;
            let changed = match (kind, &segment) {
                (JobKind::AddToSegment, Some((id, name))) => {
                    let audit = BulkAudit { actor: &actor, action: segments::ADDED, detail: name };
                    tx.bulk_join_segment(app_id, &users, *id, audit, now).await?
                }
                (JobKind::RemoveFromSegment, Some((id, name))) => {
                    let audit = BulkAudit { actor: &actor, action: segments::REMOVED, detail: name };
                    tx.bulk_leave_segment(app_id, &users, *id, audit, now).await?
                }
                (JobKind::Deactivate | JobKind::Reactivate, _) => {
                    let active = kind == JobKind::Reactivate;
                    let action = if active { lifecycle::REACTIVATED } else { lifecycle::DEACTIVATED };
                    let audit = BulkAudit { actor: &actor, action, detail: "" };
                    tx.bulk_set_active(app_id, &users, active, audit, now).await?
                }
                (JobKind::Delete, _) => {
                    let mut erased = 0;
                    for user_id in users {
                        if lifecycle::erase(tx, app_id, user_id, &actor, now).await?.is_some() {
                            erased += 1;
                        }
                    }
                    erased
                }
                _ => return Ok((Step::Failed("the job does not say what to do".into()), None)),
            };
            tx.drop_job_block(job_id, last_seq).await?;
            let done = ChunkDone { done: rows, changed, unchanged: rows - changed, ..ChunkDone::default() };
            tx.advance_job(job_id, &done).await?;
            Ok((Step::More, Some((last_seq, rows))))
        })?;
        if let Some((last, rows)) = last {
            self.acted_through = last;
            self.done += rows;
        }
        Ok(step)
    }
}

#[cfg(test)]
mod tests {
    use super::{chunk_size, JobKind, DELETE_CHUNK};

    #[test]
    fn a_deletion_erases_at_most_its_own_chunk_of_users_at_once() {
        assert_eq!(chunk_size(JobKind::Delete, 5_000), DELETE_CHUNK as usize);
        assert_eq!(chunk_size(JobKind::Delete, 2), 2, "a smaller runner chunk is kept");
        assert_eq!(chunk_size(JobKind::AddToSegment, 5_000), 5_000);
        assert_eq!(chunk_size(JobKind::Deactivate, 0), 1, "never an empty block");
    }
}
