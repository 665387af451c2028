//! Which users a selection holds: the ticked ones, or every user a view of
//! the list matches, read a round at a time in creation order (newest
//! first: users cannot move in that order, so none is read twice or
//! skipped, and users created meanwhile come before the walk's start and
//! are left out). Bulk jobs read their selection this way, the export
//! streams it, and a deletion's confirmation counts it.

use super::model::{Selection, MAX_TICKED};
use crate::error::AppError;
use crate::model::properties::grouped;
use crate::model::users::UserScope;
use crate::model::{UserFilter, UserSort, UserSummary};
use crate::store::{Budget, Position, Store, StoreError};
use crate::user_view::{decode_cursor, encode_cursor, position_of, resolve_scope};

/// Users of a view read per round.
const SELECT_ROUND: i64 = 5_000;

/// A selection walk's budget per round: larger than a page's, as a job
/// is not waited for by a person at each round.
fn select_budget() -> Budget {
    Budget { walk: 20_000, postings: 300_000, ..Budget::default() }
}

/// "12 selected users", "all users matching “ana”".
pub(super) fn who_words(selection: &Selection) -> String {
    match selection {
        Selection::Users(ids) if ids.len() == 1 => "1 selected user".to_string(),
        Selection::Users(ids) => format!("{} selected users", grouped(ids.len() as f64)),
        Selection::Matching(filter) => format!("all users matching {}", view_words(filter)),
    }
}

/// A view of the list in words: "“ana” in segment “VIP”, active in the
/// last hour" or "the whole list".
fn view_words(filter: &UserFilter) -> String {
    let mut parts = Vec::new();
    if !filter.search.trim().is_empty() {
        parts.push(format!("“{}”", filter.search.trim()));
    }
    if let Some(segment) = filter.segment.as_deref().filter(|s| !s.trim().is_empty()) {
        parts.push(format!("in segment “{}”", segment.trim()));
    }
    if let Some(window) = filter.active {
        parts.push(format!("active in {}", window.label()));
    }
    for property in &filter.properties {
        parts.push(format!("with {}", property.name));
    }
    if filter.include_deactivated {
        parts.push("deactivated included".into());
    }
    if parts.is_empty() {
        "the whole list".into()
    } else {
        parts.join(", ")
    }
}

/// One round of reading the users a view matches, in its order: the
/// users, and the cursor the next round starts after (`None` at the end).
pub(super) async fn matching_round(
    store: &Store,
    app_id: i64,
    filter: &UserFilter,
    scope: UserScope,
    after: Option<Position>,
) -> Result<(Vec<UserSummary>, Option<String>), StoreError> {
    let (users, stopped_at) =
        store.more_users_within(app_id, filter, scope, after, SELECT_ROUND, select_budget()).await?;
    let next = match (&stopped_at, users.last()) {
        (Some(at), _) => Some(encode_cursor(filter.sort, at)),
        (None, Some(last)) if users.len() as i64 == SELECT_ROUND => {
            Some(encode_cursor(filter.sort, &position_of(filter.sort, last)))
        }
        _ => None,
    };
    Ok((users, next))
}

/// Reads a selection's users a round at a time: the ticked ones, or every
/// user a view matches (in creation order, newest first).
pub struct MatchingWalk {
    app_id: i64,
    words: String,
    source: WalkSource,
}

enum WalkSource {
    Ticked(Option<Vec<i64>>),
    View { filter: UserFilter, scope: UserScope, after: Option<Option<String>> },
}

impl MatchingWalk {
    pub async fn new(store: &Store, app_id: i64, selection: &Selection) -> Result<MatchingWalk, AppError> {
        let words = who_words(selection);
        let source = match selection {
            Selection::Users(ids) if ids.len() > MAX_TICKED => return Err(too_many_ticked()),
            Selection::Users(ids) => WalkSource::Ticked(Some(ids.clone())),
            Selection::Matching(filter) => WalkSource::View {
                scope: resolve_scope(store, app_id, filter).await?,
                filter: UserFilter { sort: UserSort::Created, ..filter.clone() },
                after: Some(None),
            },
        };
        Ok(MatchingWalk { app_id, words, source })
    }

    /// The selection in words ("all users matching “ana”").
    pub fn words(&self) -> &str {
        &self.words
    }

    /// The next round's users; `None` once all were read.
    pub async fn next_users(&mut self, store: &Store) -> Result<Option<Vec<UserSummary>>, StoreError> {
        match &mut self.source {
            WalkSource::Ticked(ids) => match ids.take() {
                Some(ids) => Ok(Some(store.users_in_app(self.app_id, &ids).await?)),
                None => Ok(None),
            },
            WalkSource::View { filter, scope, after } => {
                let Some(cursor) = after.take() else { return Ok(None) };
                let position = match cursor.as_deref().map(|c| decode_cursor(filter.sort, c)).transpose() {
                    Ok(position) => position,
                    Err(err) => return Err(StoreError::Invalid { field: "cursor".into(), message: err.to_string() }),
                };
                let (users, next) = matching_round(store, self.app_id, filter, *scope, position).await?;
                *after = next.map(Some);
                Ok(Some(users))
            }
        }
    }
}

/// How many users the view matches now, counted exactly (it reads them all).
pub async fn count_matching(store: &Store, app_id: i64, filter: &UserFilter) -> Result<i64, AppError> {
    let mut walk = MatchingWalk::new(store, app_id, &Selection::Matching(filter.clone())).await?;
    let mut count = 0;
    while let Some(users) = walk.next_users(store).await? {
        count += users.len() as i64;
    }
    Ok(count)
}

pub(super) fn too_many_ticked() -> AppError {
    let most = grouped(MAX_TICKED as f64);
    AppError::invalid("selection", format!("Tick at most {most} users, or use “Select all matching”."))
}
