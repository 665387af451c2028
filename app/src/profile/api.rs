//! Server functions of the profile page.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::UserProfile;

#[server(endpoint = "profile/get", output = crate::codec::Json)]
pub async fn get_profile(user_id: i64) -> Result<UserProfile, AppError> {
    use crate::auth::session::{fail, Caller};
    let caller = Caller::viewer().await?;
    let (store, domain) = (&caller.state.store, &caller.state.pushmail_domain);
    let profile = match super::service::profile(store, caller.app.id, user_id, domain).await {
        // A user merged into another: its page is the kept user's now.
        Err(AppError::NotFound(message)) => {
            if let Some(to) = crate::merging::service::merged_page(store, caller.app.id, user_id).await? {
                leptos_axum::redirect(&to);
            }
            return Err(AppError::NotFound(message));
        }
        other => other.or_else(fail)?,
    };
    caller.viewed(user_id, crate::model::profile::Viewed::Profile).await.or_else(fail)?;
    Ok(profile)
}

/// Generates (or regenerates) the user's Push Mail address. Admins only.
#[server(endpoint = "profile/push-mail/generate", output = crate::codec::Json)]
pub async fn generate_push_mail(user_id: i64) -> Result<String, AppError> {
    use crate::auth::session::{fail, Caller};
    let Caller { state, app, account: admin } = Caller::admin().await?;
    super::service::generate_push_mail(&state.store, app.id, user_id, &state.pushmail_domain, &admin)
        .await
        .or_else(fail)
}

/// Removes the user's Push Mail address; mail to it is refused from now on. Admins only.
#[server(endpoint = "profile/push-mail/revoke", output = crate::codec::Json)]
pub async fn revoke_push_mail(user_id: i64) -> Result<(), AppError> {
    use crate::auth::session::{fail, Caller};
    let Caller { state, app, account: admin } = Caller::admin().await?;
    super::service::revoke_push_mail(&state.store, app.id, user_id, &admin).await.or_else(fail)
}

/// Deactivates (`active` false) or reactivates the user. Admins only.
#[server(endpoint = "profile/set-active", output = crate::codec::Json)]
pub async fn set_user_active(user_id: i64, active: bool) -> Result<(), AppError> {
    use crate::auth::session::{fail, Caller};
    let Caller { state, app, account: admin } = Caller::admin().await?;
    super::lifecycle::set_active(&state.store, app.id, user_id, active, &admin).await.or_else(fail)
}

/// Deletes the user and everything about it, once `confirmation` is its
/// userID; then the browser goes to the users list with a notice. Admins only.
#[server(endpoint = "profile/delete", output = crate::codec::Json)]
pub async fn delete_user(user_id: i64, confirmation: String) -> Result<(), AppError> {
    use crate::auth::session::{fail, Caller};
    let Caller { state, app, account: admin } = Caller::admin().await?;
    let (external_id, _) =
        super::lifecycle::delete(&state.store, app.id, user_id, &confirmation, &admin).await.or_else(fail)?;
    crate::auth::session::remember_deletion(&external_id).await.or_else(fail)?;
    leptos_axum::redirect("/users");
    Ok(())
}
