//! The users list, as plain async functions over the store (server functions
//! wrap these; tests call them directly).

use std::collections::HashMap;

use crate::error::AppError;
use crate::model::properties::PropertyValue;
use crate::model::property_filter::MAX_PROPERTY_FILTERS;
use crate::model::users::ColumnValue;
use crate::model::users::UserScope;
use crate::model::{UserFilter, UserSort, UserSummary, UsersPage};
use crate::store::{sort_key_of, Budget, Position, SortKey, Store, SEEN_PRECISION_MS};

pub const PAGE_SIZE: i64 = UsersPage::PAGE_SIZE;
/// Budgeted rounds one answer may take to fill its page (see
/// [`crate::store::Budget`]); past them it answers what it has, marked
/// partial, and the browser asks for the rest.
const FILL_ROUNDS: usize = 8;
const MAX_SEARCH: usize = 200;

/// Cursor text: "<sort>~<key>~<id>" of the position the next page starts
/// after (the previous page's last row, or where a partial page stopped).
pub(crate) fn encode_cursor(sort: UserSort, (key, id): &Position) -> String {
    let key = match key {
        SortKey::Int(k) => k.to_string(),
        SortKey::Text(k) => k.clone(),
    };
    format!("{}~{key}~{id}", sort.as_param())
}

pub(crate) fn position_of(sort: UserSort, user: &UserSummary) -> Position {
    (sort_key_of(sort, user), user.id)
}

pub(crate) fn decode_cursor(sort: UserSort, cursor: &str) -> Result<Position, AppError> {
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

/// Checks a view of the list and resolves it for one request: its
/// segment to the app's segment id (404 when the app has none of that
/// name), its activity window to a time.
pub async fn resolve_scope(store: &Store, app_id: i64, filter: &UserFilter) -> Result<UserScope, AppError> {
    if filter.properties.len() > MAX_PROPERTY_FILTERS {
        return Err(AppError::invalid("properties", format!("Filter by at most {MAX_PROPERTY_FILTERS} properties.")));
    }
    for property in &filter.properties {
        property.clone().checked().map_err(|message| AppError::invalid("properties", message))?;
    }
    if filter.search.chars().count() > MAX_SEARCH {
        return Err(AppError::invalid("search", format!("Search for at most {MAX_SEARCH} characters.")));
    }
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
    let active_since = filter.active.map(|window| window.since(crate::time::now_ms(), SEEN_PRECISION_MS));
    Ok(UserScope { segment, active_since })
}

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
