//! A view of the users list, resolved for one request on the server: its
//! segment and activity window (the scope the store reads), and the
//! cursor text of a position in its order.

use crate::error::AppError;
use crate::model::property_filter::MAX_PROPERTY_FILTERS;
use crate::model::users::UserScope;
use crate::model::{UserFilter, UserSort, UserSummary};
use crate::store::{sort_key_of, Position, SortKey, Store, SEEN_PRECISION_MS};

/// Longest search text, in characters.
const MAX_SEARCH: usize = 200;

/// Cursor text: "<sort>~<key>~<id>" of the position the next page starts
/// after (the previous page's last row, or where a partial page stopped).
pub fn encode_cursor(sort: UserSort, (key, id): &Position) -> String {
    let key = match key {
        SortKey::Int(k) => k.to_string(),
        SortKey::Text(k) => k.clone(),
    };
    format!("{}~{key}~{id}", sort.as_param())
}

pub fn position_of(sort: UserSort, user: &UserSummary) -> Position {
    (sort_key_of(sort, user), user.id)
}

pub fn decode_cursor(sort: UserSort, cursor: &str) -> Result<Position, AppError> {
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
