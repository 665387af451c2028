//! Who is asking and for which app. Accounts, sessions and roles arrive with
//! the accounts issue; until then the console shows the oldest app.

#[cfg(feature = "ssr")]
pub mod api_key;

#[cfg(feature = "ssr")]
use crate::{error::AppError, model::AppInfo, store::Store};

/// The app the dashboard is looking at.
#[cfg(feature = "ssr")]
pub async fn current_app(store: &Store) -> Result<AppInfo, AppError> {
    store
        .list_apps()
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::NotFound("No app yet: create one with `server app create --name NAME`".into()))
}
