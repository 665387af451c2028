//! The users list, as plain async functions over the store (server functions
//! wrap these; tests call them directly).

use crate::error::AppError;
use crate::model::{UserFilter, UserSort, UserSummary, UsersPage};
use crate::store::{sort_key_of, Position, SortKey, Store};

pub const PAGE_SIZE: i64 = 50;
const MAX_SEARCH: usize = 200;

/// Cursor text: "<sort>~<key>~<id>" of the position the next page starts
/// after (the previous page's last row, or where a partial page stopped).
fn encode_cursor(sort: UserSort, (key, id): &Position) -> String {
    let key = match key {
        SortKey::Int(k) => k.to_string(),
        SortKey::Text(k) => k.clone(),
    };
    format!("{}~{key}~{id}", sort.as_param())
}

fn position_of(sort: UserSort, user: &UserSummary) -> Position {
    (sort_key_of(sort, user), user.id)
}

fn decode_cursor(sort: UserSort, cursor: &str) -> Result<Position, AppError> {
    let invalid = || AppError::invalid("cursor", "This page link is not valid any more. Go back to the first page.");
    let (cursor_sort, rest) = cursor.split_once('~').ok_or_else(invalid)?;
    let (key, id) = rest.rsplit_once('~').ok_or_else(invalid)?;
    if cursor_sort != sort.as_param() {
        return Err(invalid());
    }
    let id = id.parse().map_err(|_| invalid())?;
    let key = match sort {
        UserSort::Name => SortKey::Text(key.to_string()),
        _ => SortKey::Int(key.parse().map_err(|_| invalid())?),
    };
    Ok((key, id))
}

#[tracing::instrument(skip(store))]
pub async fn users_page(
    store: &Store,
    app_id: i64,
    filter: &UserFilter,
    cursor: Option<&str>,
    limit: i64,
) -> Result<UsersPage, AppError> {
    if filter.search.chars().count() > MAX_SEARCH {
        return Err(AppError::invalid("search", format!("Search for at most {MAX_SEARCH} characters.")));
    }
    let after = cursor.filter(|c| !c.is_empty()).map(|c| decode_cursor(filter.sort, c)).transpose()?;
    let segment = match filter.segment.as_deref().map(str::trim).filter(|name| !name.is_empty()) {
        Some(name) => Some(
            store
                .segment_by_name(app_id, name)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("There is no segment named “{name}” in this app.")))?
                .id,
        ),
        None => None,
    };
    // One row more than asked tells whether a next page exists.
    let found = store.users_page(app_id, filter, segment, after, limit + 1).await?;
    let mut users = found.users;
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
        partial: found.stopped_at.is_some(),
        next_cursor,
    })
}
