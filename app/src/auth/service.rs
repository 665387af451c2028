//! Signing in and out, as plain async functions (server functions wrap them).

use std::net::IpAddr;

use tower_sessions::Session;

use super::password;
use super::session::{self, fail, SessionAdmin};
use crate::error::AppError;
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
    if let Err(wait) = state.limits.check_login(ip, email).await {
        let seconds = wait.as_secs().max(1);
        metrics::counter!(crate::metrics::RATE_LIMITED, "limit" => "sign_in").increment(1);
        return fail(AppError::TooManyRequests(format!("Too many sign-in attempts. Try again in {seconds} seconds.")));
    }
    let account = state.store.admin_by_email(email).await?;
    let valid = password::verify(password_text, account.as_ref().map(|a| a.password_hash.clone())).await;
    let from = ip_text(ip);
    let audit = |action| NewAudit { actor: email, action, detail: &from, ..Default::default() };
    let Some(account) = account.filter(|_| valid) else {
        metrics::counter!(crate::metrics::SIGN_IN_FAILURES).increment(1);
        state.store.record_audit(&audit("sign-in failed"), now_ms()).await?;
        return fail(AppError::BadCredentials);
    };
    let admin = SessionAdmin { id: account.id, email: account.email, role: account.role };
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

/// Where to go after sign-in: `next` when it is a path on this console,
/// else `/users` (no open redirects).
///
/// Accepted: visible ASCII only (a tab, newline or other character that the
/// browser strips or folds could turn `/\t/evil.test` into `//evil.test`,
/// and would not fit in a `Location` header), no backslash (browsers read it
/// as `/`), starting with one `/`, and still on this origin after a WHATWG
/// URL parse, which is what the browser does with the `Location` header.
pub fn safe_next(next: Option<&str>) -> &str {
    const HOME: &str = "/users";
    let Some(path) = next else { return HOME };
    let plain = path.bytes().all(|b| b.is_ascii_graphic()) && !path.contains('\\');
    if !plain || !path.starts_with('/') || path.starts_with("//") {
        return HOME;
    }
    let base = url::Url::parse("http://console.invalid/").expect("a valid base URL");
    match base.join(path) {
        Ok(url) if url.origin() == base.origin() => path,
        _ => HOME,
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_keeps_local_paths() {
        for good in ["/users?q=ana", "/users/23", "/users?q=a%2Fb&sort=name", "/", "/users#top", "/%2F%2Fevil.test"] {
            assert_eq!(safe_next(Some(good)), good);
        }
        assert_eq!(safe_next(None), "/users");
    }

    #[test]
    fn hostile_next_values_land_on_a_local_path() {
        let hostile = [
            "https://evil.example",
            "http:evil.example",
            "javascript:alert(1)",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.test/phish",
            "/\n/evil.test",
            "/\r\n/evil.test",
            "\t//evil.test",
            " //evil.test",
            "/ /evil.test",
            "/\u{0}/evil.test",
            "/\u{7f}/evil.test",
            "/\u{ff0f}evil.test",
            "/\u{2215}evil.test",
            "\u{ff0f}\u{ff0f}evil.test",
            "/\u{202e}tset.live//",
            "users",
            "evil.test",
            "",
        ];
        for bad in hostile {
            assert_eq!(safe_next(Some(bad)), "/users", "{bad:?}");
        }
    }

    #[test]
    fn every_accepted_next_fits_a_location_header() {
        for value in ["/users?q=%C3%A1", "/\u{e1}", "/\n"] {
            let chosen = safe_next(Some(value));
            assert!(axum::http::HeaderValue::from_str(chosen).is_ok(), "{value:?}");
        }
    }
}
