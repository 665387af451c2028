//! Server functions of the users feature: thin wrappers over `service`.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::UsersPage;

/// One page of the current app's active users, newest first.
#[server(endpoint = "users/list")]
pub async fn list_users(cursor: Option<String>) -> Result<UsersPage, AppError> {
    use crate::state::AppState;
    let state = expect_context::<AppState>();
    crate::auth::session::signed_in().await?;
    let app = crate::auth::session::current_app(&state).await?;
    super::service::users_page(&state.store, app.id, cursor.as_deref(), super::service::PAGE_SIZE).await
}
