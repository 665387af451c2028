//! The users list, as plain async functions over the store (server functions
//! wrap these; tests call them directly).

use crate::error::AppError;
use crate::model::{UserFilter, UserSort, UserSummary, UsersPage};
use crate::store::{sort_key_of, SearchStrategy, SortKey, Store, UserListQuery};

pub const PAGE_SIZE: i64 = 50;
const MAX_SEARCH: usize = 200;

/// Cursor text: "<sort>~<key>~<id>" of the previous page's last row.
fn encode_cursor(sort: UserSort, user: &UserSummary) -> String {
    let key = match sort_key_of(sort, user) {
        SortKey::Int(k) => k.to_string(),
        SortKey::Text(k) => k,
    };
    format!("{}~{key}~{}", sort.as_param(), user.id)
}

fn decode_cursor(sort: UserSort, cursor: &str) -> Result<(SortKey, i64), AppError> {
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
    let search = store.plan_search(app_id, &filter.search, filter.sort).await?;
    let query = UserListQuery {
        search: &search,
        sort: filter.sort,
        include_deactivated: filter.include_deactivated,
        after,
        limit: limit + 1,
    };
    let bound = if search.strategy() == &SearchStrategy::Everyone {
        UsersPage::COUNT_LIMIT
    } else {
        UsersPage::SEARCH_COUNT_LIMIT
    };
    // The page and its count read on two connections at once.
    let (mut users, counted) = tokio::try_join!(
        store.list_users(app_id, &query),
        store.count_users(app_id, &search, filter.include_deactivated, bound + 1)
    )?;
    // One row more than asked tells whether a next page exists.
    let next_cursor = if users.len() as i64 > limit {
        users.truncate(limit as usize);
        users.last().map(|u| encode_cursor(filter.sort, u))
    } else {
        None
    };
    Ok(UsersPage { users, total: counted.min(bound), total_is_more: counted > bound, next_cursor })
}
