//! Signing in and out, as plain async functions (server functions wrap them).

use std::net::IpAddr;

use tower_sessions::Session;

use super::password;
use super::session::{self, fail, SessionAdmin};
use crate::error::AppError;
use crate::model::Role;
use crate::state::AppState;
use crate::store::NewAudit;
use crate::time::now_ms;

/// Checks the credentials (rate-limited per IP and per email), starts the
/// session, and writes the attempt to the audit trail either way.
#[tracing::instrument(skip(state, session, password_text))]
pub async fn sign_in(
    state: &AppState,
    session: &Session,
    ip: Option<IpAddr>,
    email: &str,
    password_text: String,
) -> Result<SessionAdmin, AppError> {
    let email = email.trim();
    if let Err(wait) = state.limits.check_login(ip, email) {
        let seconds = wait.as_secs().max(1);
        return fail(AppError::TooManyRequests(format!("Too many sign-in attempts. Try again in {seconds} seconds.")));
    }
    let account = state.store.admin_by_email(email).await?;
    let valid = password::verify(password_text, account.as_ref().map(|a| a.password_hash.clone())).await;
    let from = ip_text(ip);
    let audit = |action| NewAudit { actor: email, action, detail: &from, ..Default::default() };
    let Some(account) = account.filter(|_| valid) else {
        state.store.record_audit(&audit("sign-in failed"), now_ms()).await?;
        session::set_status(axum::http::StatusCode::UNAUTHORIZED);
        return Err(AppError::Invalid { field: None, message: "Wrong email or password.".into() });
    };
    let admin =
        SessionAdmin { id: account.id, email: account.email, role: Role::parse(&account.role).unwrap_or(Role::Viewer) };
    session::start(session, &admin).await?;
    state.store.record_audit(&audit("signed in"), now_ms()).await?;
    Ok(admin)
}

pub async fn sign_out(state: &AppState, session: &Session) -> Result<(), AppError> {
    if let Some(admin) = session::admin_in(session).await {
        let entry = NewAudit { actor: &admin.email, action: "signed out", ..Default::default() };
        state.store.record_audit(&entry, now_ms()).await?;
    }
    session::end(session).await
}

fn ip_text(ip: Option<IpAddr>) -> String {
    ip.map(|ip| format!("from {ip}")).unwrap_or_default()
}

/// Only same-site paths are followed after sign-in (no open redirects).
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/\\") => path,
        _ => "/users",
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_a_local_path() {
        assert_eq!(safe_next(Some("/users?q=ana")), "/users?q=ana");
        for bad in ["https://evil.example", "//evil.example", "/\\evil.example", "users"] {
            assert_eq!(safe_next(Some(bad)), "/users", "{bad}");
        }
        assert_eq!(safe_next(None), "/users");
    }
}
