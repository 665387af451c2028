//! The users list, as plain async functions over the store (server functions
//! wrap these; tests call them directly).

use crate::error::AppError;
use crate::model::UsersPage;
use crate::store::Store;

pub const PAGE_SIZE: i64 = 50;

/// Cursor format: "<created_at>.<id>" of the last row of the previous page.
fn parse_cursor(cursor: &str) -> Result<(i64, i64), AppError> {
    let invalid = || AppError::invalid("cursor", "This page link is not valid any more. Go back to the first page.");
    let (created, id) = cursor.split_once('.').ok_or_else(invalid)?;
    Ok((created.parse().map_err(|_| invalid())?, id.parse().map_err(|_| invalid())?))
}

#[tracing::instrument(skip(store))]
pub async fn users_page(store: &Store, app_id: i64, cursor: Option<&str>, limit: i64) -> Result<UsersPage, AppError> {
    let after = cursor.filter(|c| !c.is_empty()).map(parse_cursor).transpose()?;
    // One row more than asked tells whether a next page exists.
    let mut users = store.list_active_users(app_id, after, limit + 1).await?;
    let next_cursor = if users.len() as i64 > limit {
        users.truncate(limit as usize);
        users.last().map(|u| format!("{}.{}", u.created_at, u.id))
    } else {
        None
    };
    let total = store.count_active_users(app_id).await?;
    Ok(UsersPage { users, total, next_cursor })
}
