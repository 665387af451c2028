//! Server functions of the properties feature: session and role check, then
//! one service call.

use leptos::prelude::*;

use super::model::{PropertyChange, UserProperty};
use crate::error::AppError;

/// A page of the user's property changes, newest first (`before`: the last
/// change id shown).
#[server(endpoint = "properties/history", output = crate::codec::Json)]
pub async fn property_history(user_id: i64, before: Option<i64>) -> Result<Vec<PropertyChange>, AppError> {
    use crate::auth::session::{fail, Caller};
    let caller = Caller::viewer().await?;
    let changes = super::service::history(&caller.state.store, caller.app.id, user_id, before).await.or_else(fail)?;
    caller.viewed(user_id, crate::model::profile::Viewed::Profile).await.or_else(fail)?;
    Ok(changes)
}

/// Sets a property to the value typed for `kind` (`string`, `number`,
/// `boolean`, `date` as RFC 3339); the user's properties. Admins only.
#[server(endpoint = "properties/set", output = crate::codec::Json)]
pub async fn set_property(
    user_id: i64,
    name: String,
    kind: String,
    value: String,
) -> Result<Vec<UserProperty>, AppError> {
    use crate::auth::session::{fail, Caller};
    let Caller { state, app, account: admin } = Caller::admin().await?;
    super::service::set(&state.store, app.id, user_id, &name, &kind, &value, &admin).await.or_else(fail)
}

/// Removes a property; the user's properties. Admins only.
#[server(endpoint = "properties/remove", output = crate::codec::Json)]
pub async fn remove_property(user_id: i64, name: String) -> Result<Vec<UserProperty>, AppError> {
    use crate::auth::session::{fail, Caller};
    let Caller { state, app, account: admin } = Caller::admin().await?;
    super::service::remove(&state.store, app.id, user_id, &name, &admin).await.or_else(fail)
}

/// Suggestions while typing a property filter or column: up to
/// [`super::service::SUGGESTIONS`] property names of the app starting with
/// `name`, or, with `value`, the seen string values of the property `name`
/// starting with `value`.
#[server(endpoint = "properties/suggest", output = crate::codec::Json)]
pub async fn suggest_properties(name: String, value: Option<String>) -> Result<Vec<String>, AppError> {
    use crate::auth::session::{fail, Caller};
    let Caller { state, app, .. } = Caller::viewer().await?;
    super::service::suggestions(&state.store, app.id, &name, value.as_deref()).await.or_else(fail)
}
