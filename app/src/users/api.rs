//! Server functions of the users feature: thin wrappers over `service`.

// The list takes one argument per part of the view, so it answers a plain
// form too (the server macro's generated functions take the same ones).
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{UserSort, UsersPage};

/// One page of the current app's users: `search` (prefix of any word of
/// userID, userName or email), `sort`, `deactivated` (include them), and the
/// `cursor` of the page before, among the members of `segment` (a name)
/// and the users active within `active` (`1m`, `5m`, `30m`, `1h`; any
/// other value is no filter), with the property filters `properties` (in
/// their URL form, `prop.plan=pro&prop.age:gt=30`) and the values of the
/// property columns `columns` (`plan,country`); `limit` users at most (a
/// page, and no more than a page).
#[server(endpoint = "users/list", output = crate::codec::Json)]
pub async fn list_users(
    search: Option<String>,
    sort: Option<UserSort>,
    deactivated: Option<bool>,
    segment: Option<String>,
    active: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
    properties: Option<String>,
    columns: Option<String>,
) -> Result<UsersPage, AppError> {
    use crate::model::property_filter::{columns_from_param, filters_from_pairs};
    let properties = properties.unwrap_or_default();
    let filter = crate::model::UserFilter {
        search: search.unwrap_or_default(),
        sort: sort.unwrap_or_default(),
        include_deactivated: deactivated.unwrap_or(false),
        segment,
        active: active.as_deref().and_then(crate::model::users::ActiveWithin::from_param),
        properties: filters_from_pairs(form_urlencoded::parse(properties.as_bytes()))
            .map_err(|message| AppError::invalid("properties", message))?,
    };
    let columns = columns_from_param(&columns.unwrap_or_default());
    use crate::auth::session::Caller;
    let Caller { state, app, .. } = Caller::viewer().await?;
    let limit = limit.unwrap_or(UsersPage::PAGE_SIZE).clamp(1, UsersPage::PAGE_SIZE);
    let mut page = super::service::users_page(&state.store, app.id, &filter, cursor.as_deref(), limit).await?;
    page.column_values = super::service::column_values(&state.store, &page.users, &columns).await?;
    Ok(page)
}

/// The userID this session has just deleted (Options > Delete lands on the
/// users list), once; `None` afterwards and for every other session.
#[server(endpoint = "users/deleted-notice", output = crate::codec::Json)]
pub async fn take_deleted_notice() -> Result<Option<String>, AppError> {
    use crate::auth::session::{fail, signed_in, take_deletion};
    signed_in().await?;
    take_deletion().await.or_else(fail)
}
