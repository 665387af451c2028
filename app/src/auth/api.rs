//! Server functions of the auth feature.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::Me;

#[server(endpoint = "auth/login", output = crate::codec::Json)]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;

    let state = crate::state::app_state()?;
    let session = super::session::session().await?;
    let peer = leptos_axum::extract::<ConnectInfo<SocketAddr>>().await.ok().map(|info| info.0.ip());
    let headers = leptos_axum::extract::<axum::http::HeaderMap>().await.unwrap_or_default();
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let ip = peer.map(|peer| state.limits.client_ip(peer, forwarded));
    super::service::sign_in(&state, &session, ip, &email, password).await?;
    leptos_axum::redirect(super::service::safe_next(next.as_deref()));
    Ok(())
}

#[server(endpoint = "auth/logout", output = crate::codec::Json)]
pub async fn logout() -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    let session = super::session::session().await?;
    super::service::sign_out(&state, &session).await?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in account, its role, and the apps it can switch between.
#[server(endpoint = "auth/me", output = crate::codec::Json)]
pub async fn current_account() -> Result<Me, AppError> {
    let state = crate::state::app_state()?;
    let admin = super::session::signed_in().await?;
    let apps = state.store.list_apps().await?;
    let app = super::session::chosen_app(&apps).await?.cloned();
    Ok(Me { id: admin.id, email: admin.email, role: admin.role, app, apps })
}

/// Makes `app_id` the app the dashboard shows (a view choice: viewers may too).
#[server(endpoint = "apps/switch", output = crate::codec::Json)]
pub async fn switch_app(app_id: i64) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    super::session::signed_in().await?;
    super::session::choose_app(&state, app_id).await?;
    Ok(())
}
