//! Server functions of the profile page.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::UserProfile;

#[server(endpoint = "profile/get")]
pub async fn get_profile(user_id: i64) -> Result<UserProfile, AppError> {
    use crate::auth::session::{current_app, fail, signed_in};
    let state = expect_context::<crate::state::AppState>();
    signed_in().await?;
    let app = current_app(&state).await?;
    super::service::profile(&state.store, app.id, user_id, &state.pushmail_domain).await.or_else(fail)
}

/// Generates (or regenerates) the user's Push Mail address. Admins only.
#[server(endpoint = "profile/push-mail/generate")]
pub async fn generate_push_mail(user_id: i64) -> Result<String, AppError> {
    use crate::auth::session::{current_app, fail, require_admin};
    let state = expect_context::<crate::state::AppState>();
    let admin = require_admin().await?;
    let app = current_app(&state).await?;
    super::service::generate_push_mail(&state.store, app.id, user_id, &state.pushmail_domain, &admin)
        .await
        .or_else(fail)
}

/// Removes the user's Push Mail address; mail to it is refused from now on. Admins only.
#[server(endpoint = "profile/push-mail/revoke")]
pub async fn revoke_push_mail(user_id: i64) -> Result<(), AppError> {
    use crate::auth::session::{current_app, fail, require_admin};
    let state = expect_context::<crate::state::AppState>();
    let admin = require_admin().await?;
    let app = current_app(&state).await?;
    super::service::revoke_push_mail(&state.store, app.id, user_id, &admin).await.or_else(fail)
}
