//! Properties as plain async functions over the store: the server functions
//! wrap these and tests call them directly. An admin's change is one
//! transaction with its history row and its audit row.

use super::model::{name_problem, parse_admin_value, PropertyChange, PropertySet, UserProperty, HISTORY_PAGE};
use crate::auth::session::SessionAdmin;
use crate::error::AppError;
use crate::store::{write_tx, NewAudit, Store};
use crate::time::now_ms;

const SET: &str = "set property";
const REMOVED: &str = "removed property";

async fn check_user(store: &Store, app_id: i64, user_id: i64) -> Result<(), AppError> {
    match store.user_by_id(app_id, user_id).await? {
        Some(_) => Ok(()),
        None => Err(AppError::NotFound("This user does not exist in this app.".into())),
    }
}

/// The user's properties, by name.
pub async fn properties(store: &Store, app_id: i64, user_id: i64) -> Result<Vec<UserProperty>, AppError> {
    check_user(store, app_id, user_id).await?;
    Ok(store.properties_of(user_id).await?)
}

/// A page of the user's property changes, newest first, before the change
/// `before` (the next page's cursor is the last id shown).
pub async fn history(
    store: &Store,
    app_id: i64,
    user_id: i64,
    before: Option<i64>,
) -> Result<Vec<PropertyChange>, AppError> {
    check_user(store, app_id, user_id).await?;
    Ok(store.property_history(user_id, before, HISTORY_PAGE).await?)
}

/// An admin sets `name` to the value typed for `kind`; returns the user's
/// properties.
pub async fn set(
    store: &Store,
    app_id: i64,
    user_id: i64,
    name: &str,
    kind: &str,
    value: &str,
    admin: &SessionAdmin,
) -> Result<Vec<UserProperty>, AppError> {
    let name = name.trim();
    if let Some(problem) = name_problem(name) {
        return Err(AppError::invalid("name", problem));
    }
    let value = parse_admin_value(kind, value).map_err(|message| AppError::invalid("value", message))?;
    change(store, app_id, user_id, PropertySet { name: name.to_string(), value: Some(value) }, SET, admin).await
}

/// An admin removes `name`; returns the user's properties.
pub async fn remove(
    store: &Store,
    app_id: i64,
    user_id: i64,
    name: &str,
    admin: &SessionAdmin,
) -> Result<Vec<UserProperty>, AppError> {
    change(store, app_id, user_id, PropertySet { name: name.to_string(), value: None }, REMOVED, admin).await
}

async fn change(
    store: &Store,
    app_id: i64,
    user_id: i64,
    change: PropertySet,
    action: &str,
    admin: &SessionAdmin,
) -> Result<Vec<UserProperty>, AppError> {
    check_user(store, app_id, user_id).await?;
    let now = now_ms();
    write_tx!(store, |tx| {
        let made = tx.set_properties(app_id, user_id, std::slice::from_ref(&change), &admin.email, now).await?;
        if !made.is_empty() {
            let audit = NewAudit::on_user(app_id, user_id, &admin.email, action).with_detail(&change.name);
            tx.record_audit(&audit, now).await?;
        }
        Ok(())
    })?;
    Ok(store.properties_of(user_id).await?)
}

/// Suggestions one answer holds at most.
pub const SUGGESTIONS: i64 = 10;

/// Property names of the app starting with `name`, or (with `value`) the
/// seen string values of the property `name` starting with `value`; at most
/// [`SUGGESTIONS`], in byte order.
pub async fn suggestions(store: &Store, app_id: i64, name: &str, value: Option<&str>) -> Result<Vec<String>, AppError> {
    let name = name.trim();
    if name.chars().count() > super::model::MAX_NAME {
        return Err(AppError::invalid("name", "A property's name is at most 64 characters."));
    }
    match value {
        None => Ok(store.property_names(app_id, name, SUGGESTIONS).await?),
        Some(_) if name_problem(name).is_some() => Ok(Vec::new()),
        Some(value) => {
            let prefix: String = value.chars().take(200).collect();
            Ok(store.property_text_values(app_id, name, &prefix, SUGGESTIONS).await?)
        }
    }
}
