//! The users list, as plain async functions over the store (server functions
//! wrap these; tests call them directly).

use std::collections::HashMap;

use crate::error::AppError;
use crate::model::properties::PropertyValue;
use crate::model::users::ColumnValue;
use crate::model::{UserFilter, UserSummary, UsersPage};
use crate::store::{Budget, Store};
use crate::user_view::{decode_cursor, encode_cursor, position_of, resolve_scope};

pub const PAGE_SIZE: i64 = UsersPage::PAGE_SIZE;
/// Budgeted rounds one answer may take to fill its page (see
/// [`crate::store::Budget`]); past them it answers what it has, marked
/// partial, and the browser asks for the rest.
const FILL_ROUNDS: usize = 8;

#[tracing::instrument(skip(store))]
pub async fn users_page(
    store: &Store,
    app_id: i64,
    filter: &UserFilter,
    cursor: Option<&str>,
    limit: i64,
) -> Result<UsersPage, AppError> {
    users_page_within(store, app_id, filter, cursor, limit, Budget::default()).await
}

/// [`users_page`] with each round of the search within `budget` (tests use
/// small ones to make pages partial).
pub async fn users_page_within(
    store: &Store,
    app_id: i64,
    filter: &UserFilter,
    cursor: Option<&str>,
    limit: i64,
    budget: Budget,
) -> Result<UsersPage, AppError> {
    let after = cursor.filter(|c| !c.is_empty()).map(|c| decode_cursor(filter.sort, c)).transpose()?;
    let scope = resolve_scope(store, app_id, filter).await?;
    // One row more than asked tells whether a next page exists.
    let mut found = store.users_page_within(app_id, filter, scope, after, limit + 1, budget).await?;
    // A round whose budget ran out before the page filled goes on from
    // where it stopped: the page holds the first matches in order, all of
    // them, or says it is still searching (the browser then asks for the
    // rest with the cursor where this answer stopped).
    let mut rounds = 1;
    while let Some(at) = found.stopped_at.clone() {
        let wanted = limit + 1 - found.users.len() as i64;
        if wanted <= 0 || rounds >= FILL_ROUNDS {
            break;
        }
        let (more, stopped_at) = store.more_users_within(app_id, filter, scope, Some(at), wanted, budget).await?;
        found.users.extend(more);
        found.stopped_at = stopped_at;
        rounds += 1;
    }
    let mut users = found.users;
    // Not full, and the search has not got to the end: still searching.
    let partial = users.len() as i64 <= limit && found.stopped_at.is_some();
    let next_cursor = if users.len() as i64 > limit {
        users.truncate(limit as usize);
        users.last().map(|u| encode_cursor(filter.sort, &position_of(filter.sort, u)))
    } else {
        // A partial page goes on from where its search stopped.
        found.stopped_at.as_ref().map(|at| encode_cursor(filter.sort, at))
    };
    Ok(UsersPage {
        users,
        total: found.total,
        total_is_more: found.total_is_lower_bound,
        partial,
        next_cursor,
        column_values: Vec::new(),
    })
}

/// The values of the property `columns` of each of `users`, in order (one
/// read for the page).
pub async fn column_values(
    store: &Store,
    users: &[UserSummary],
    columns: &[String],
) -> Result<Vec<Vec<Option<ColumnValue>>>, AppError> {
    if columns.is_empty() || users.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
    let mut found: HashMap<(i64, String), PropertyValue> = store
        .property_values_of(&ids, columns)
        .await?
        .into_iter()
        .map(|(user_id, name, value)| ((user_id, name), value))
        .collect();
    Ok(ids
        .iter()
        .map(|&id| columns.iter().map(|name| found.remove(&(id, name.clone())).as_ref().map(ColumnValue::of)).collect())
        .collect())
}
