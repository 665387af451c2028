//! Segments as plain async functions over the store: the server functions
//! wrap these, the ingest API and tests call them directly. Every change is
//! one transaction with its audit rows.

use super::model::{segment_name, Segment, SegmentSearch, SEARCH_LIMIT};
use crate::auth::session::SessionAdmin;
use crate::error::AppError;
use crate::ids::ExternalId;
use crate::store::{name_key, write_tx, Arrived, NewAudit, Recipient, Store, StoreError, WriteTx};
use crate::time::now_ms;

const CREATED: &str = "created segment";

/// Longest search text, in characters (a name is at most 64).
const MAX_SEARCH_CHARS: usize = 200;

fn user_not_found() -> AppError {
    AppError::NotFound("This user does not exist in this app.".into())
}

async fn check_user(store: &Store, app_id: i64, user_id: i64) -> Result<(), AppError> {
    store.user_by_id(app_id, user_id).await?.map(|_| ()).ok_or_else(user_not_found)
}

fn parse_name(raw: &str) -> Result<String, AppError> {
    segment_name(raw).map_err(|message| AppError::invalid("name", message))
}

pub async fn user_segments(store: &Store, app_id: i64, user_id: i64) -> Result<Vec<Segment>, AppError> {
    check_user(store, app_id, user_id).await?;
    Ok(store.segments_of_user(app_id, user_id).await?)
}

/// The modal's search: prefix matches, then the others, up to
/// [`SEARCH_LIMIT`], and whether a segment is named exactly like the text.
#[tracing::instrument(skip(store))]
pub async fn search(store: &Store, app_id: i64, user_id: i64, text: &str) -> Result<SegmentSearch, AppError> {
    if text.chars().count() > MAX_SEARCH_CHARS {
        return Err(AppError::invalid("text", format!("Search for at most {MAX_SEARCH_CHARS} characters.")));
    }
    let matches = store.search_segments(app_id, user_id, text, SEARCH_LIMIT).await?;
    let key = name_key(text);
    let exact = !key.is_empty()
        && (matches.iter().any(|m| name_key(&m.name) == key) || store.segment_by_name(app_id, text).await?.is_some());
    Ok(SegmentSearch { text: text.to_string(), matches, exact })
}

/// "Create it?": the app's segment with this name, created (and audited)
/// when missing. Two admins creating "VIP" and "vip " at once both get the
/// one segment.
pub async fn create(store: &Store, app_id: i64, raw_name: &str, admin: &SessionAdmin) -> Result<Segment, AppError> {
    create_as(store, app_id, raw_name, &admin.email).await.map(|(segment, _)| segment)
}

/// [`create`] for any actor (the ingest API's is "api"); `true` when created.
pub async fn create_as(store: &Store, app_id: i64, raw_name: &str, actor: &str) -> Result<(Segment, bool), AppError> {
    let name = parse_name(raw_name)?;
    let now = now_ms();
    Ok(write_tx!(store, |tx| segment_named(tx, app_id, &name, actor, now).await)?)
}

/// The app's segment named `name` in `tx`, created and audited when missing;
/// `true` when created.
async fn segment_named(
    tx: &mut WriteTx,
    app_id: i64,
    name: &str,
    actor: &str,
    now: i64,
) -> Result<(Segment, bool), StoreError> {
    let (segment, created) = tx.segment_named(app_id, name, now).await?;
    if created {
        let audit = NewAudit { app_id: Some(app_id), actor, action: CREATED, user_id: None, detail: &segment.name };
        tx.record_audit(&audit, now).await?;
    }
    Ok((segment, created))
}

/// In `tx`, the user joins each of `segment_ids` not joined yet, with one
/// audit row per segment joined; returns those.
async fn join(
    tx: &mut WriteTx,
    app_id: i64,
    user_id: i64,
    segment_ids: &[i64],
    actor: &str,
    now: i64,
) -> Result<Vec<Segment>, StoreError> {
    let joined = tx.join_segments(app_id, user_id, segment_ids, actor, now).await?;
    for segment in &joined {
        let audit = NewAudit::on_user(app_id, user_id, actor, ADDED).with_detail(&segment.name);
        tx.record_audit(&audit, now).await?;
    }
    Ok(joined)
}

/// In `tx`, the user leaves the segment (audited); `None` when not in it.
async fn leave(
    tx: &mut WriteTx,
    app_id: i64,
    user_id: i64,
    segment_id: i64,
    actor: &str,
    now: i64,
) -> Result<Option<Segment>, StoreError> {
    let Some(segment) = tx.leave_segment(app_id, user_id, segment_id).await? else { return Ok(None) };
    let audit = NewAudit::on_user(app_id, user_id, actor, REMOVED).with_detail(&segment.name);
    tx.record_audit(&audit, now).await?;
    Ok(Some(segment))
}

/// "Add": the user joins every segment of `segment_ids`, all in one
/// transaction (one unknown id adds nothing), one audit row per segment
/// joined. Returns all of the user's segments.
pub async fn add(
    store: &Store,
    app_id: i64,
    user_id: i64,
    segment_ids: &[i64],
    admin: &SessionAdmin,
) -> Result<Vec<Segment>, AppError> {
    add_as(store, app_id, user_id, segment_ids, &admin.email).await
}

/// [`add`] for any actor.
pub async fn add_as(
    store: &Store,
    app_id: i64,
    user_id: i64,
    segment_ids: &[i64],
    actor: &str,
) -> Result<Vec<Segment>, AppError> {
    if segment_ids.is_empty() {
        return Err(AppError::invalid("segment_ids", "Select at least one segment."));
    }
    if segment_ids.len() > MAX_ADD {
        return Err(AppError::invalid("segment_ids", format!("Add at most {MAX_ADD} segments at once.")));
    }
    let now = now_ms();
    write_tx!(store, |tx| join(tx, app_id, user_id, segment_ids, actor, now).await).map_err(not_found_in_words)?;
    Ok(store.segments_of_user(app_id, user_id).await?)
}

/// Segments added at once, at most.
const MAX_ADD: usize = 100;
/// The audit actions of a user joining and leaving a segment.
pub const ADDED: &str = "added to segment";
pub const REMOVED: &str = "removed from segment";

/// The store's `NotFound` of a join, in words for the person at the console.
fn not_found_in_words(err: StoreError) -> AppError {
    match err {
        StoreError::NotFound("user") => user_not_found(),
        StoreError::NotFound(_) => {
            AppError::NotFound("A selected segment no longer exists. Search again and retry.".into())
        }
        other => other.into(),
    }
}

/// "Remove": the user leaves one segment (audited). Not being in it is
/// `NotFound`.
pub async fn remove(
    store: &Store,
    app_id: i64,
    user_id: i64,
    segment_id: i64,
    admin: &SessionAdmin,
) -> Result<(), AppError> {
    remove_as(store, app_id, user_id, segment_id, &admin.email).await
}

/// [`remove`] for any actor.
pub async fn remove_as(store: &Store, app_id: i64, user_id: i64, segment_id: i64, actor: &str) -> Result<(), AppError> {
    check_user(store, app_id, user_id).await?;
    let now = now_ms();
    let left = write_tx!(store, |tx| leave(tx, app_id, user_id, segment_id, actor, now).await)?;
    if left.is_none() {
        return Err(AppError::NotFound("This user is not in that segment.".into()));
    }
    Ok(())
}

/// What [`join_by_name`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    pub segment: Segment,
    /// The segment was created by this call.
    pub created: bool,
    /// The user was not in it before this call.
    pub added: bool,
    /// The userID of the user that joined: the kept user's when the call
    /// named a merged userID.
    pub user: String,
}

/// The ingest API's `PUT …/segments/{name}`: the user (by the app's userID)
/// joins the segment named `raw_name`, created when missing; both in one
/// transaction with their audit rows. Idempotent: a second call changes
/// nothing and writes no audit row.
pub async fn join_by_name(
    store: &Store,
    app_id: i64,
    user: &ExternalId,
    raw_name: &str,
    actor: &str,
) -> Result<Joined, AppError> {
    let name = parse_name(raw_name)?;
    let now = now_ms();
    // The user is resolved in the transaction: a merge or an undo committed
    // since decides who joins, and a join through a merged userID is noted
    // with it, so an undo of that merge takes it back.
    let joined = write_tx!(store, |tx| {
        let Some(addressee) = tx.addressee(app_id, Recipient::UserId(user.as_str())).await? else {
            return Ok(None);
        };
        let (segment, created) = segment_named(tx, app_id, &name, actor, now).await?;
        let added = !join(tx, app_id, addressee.id, &[segment.id], actor, now).await?.is_empty();
        if added && addressee.through_alias {
            let at = (app_id, addressee.id);
            tx.note_arrivals(at, user.as_str(), Arrived::Memberships, &[segment.id], now).await?;
        }
        Ok(Some(Joined { segment, created, added, user: addressee.external_id }))
    })
    .map_err(not_found_in_words)?;
    joined.ok_or_else(|| unknown_user_id(user))
}

/// The ingest API's `DELETE …/segments/{name}`: the user leaves the segment
/// named `raw_name`. An unknown user, segment or membership is `NotFound`.
pub async fn leave_by_name(
    store: &Store,
    app_id: i64,
    user: &ExternalId,
    raw_name: &str,
    actor: &str,
) -> Result<Segment, AppError> {
    let name = parse_name(raw_name)?;
    let not_in = || AppError::NotFound(format!("user '{}' is not in a segment named '{name}'", user.as_str()));
    let segment = store.segment_by_name(app_id, &name).await?;
    let now = now_ms();
    // Resolved in the transaction, as for a join.
    let left = write_tx!(store, |tx| {
        let Some(addressee) = tx.addressee(app_id, Recipient::UserId(user.as_str())).await? else {
            return Ok(Err(unknown_user_id(user)));
        };
        match &segment {
            Some(segment) => Ok(leave(tx, app_id, addressee.id, segment.id, actor, now).await?.ok_or_else(not_in)),
            None => Ok(Err(not_in())),
        }
    })?;
    left
}

fn unknown_user_id(user: &ExternalId) -> AppError {
    AppError::NotFound(format!("unknown userID '{}'", user.as_str()))
}
