//! The axum app: pages and server functions (Leptos), the ingest API, static
//! files, and the cross-cutting guards (sessions, sign-in, same-origin, limits).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use app::auth::api_key;
use app::auth::limits::RateLimits;
use app::auth::session::admin_in;
use app::state::AppState;
use app::store::{redact_url, Store};
use app::{shell, App};
use axum::extract::Request;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use crate::config::Config;

/// Largest request body anywhere (the ingest API has its own, smaller limit).
const BODY_LIMIT: usize = 12 * 1024 * 1024;

/// Opens the database (running migrations) with an error that says which one failed.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    Store::connect(&config.database_url)
        .await
        .with_context(|| format!("cannot open database {}", redact_url(&config.database_url)))
}

/// The whole app as a router, ready to serve.
pub fn router(state: AppState, cookie_secure: bool) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let sessions = SessionManagerLayer::new(state.store.session_store())
        .with_name("audience_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(cookie_secure)
        .with_expiry(Expiry::OnInactivity(tower_sessions::cookie::time::Duration::hours(12)));
    Router::new()
        .nest("/api/v1", crate::ingest::routes())
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(require_sign_in))
        .layer(middleware::from_fn(same_origin_server_fns))
        .layer(sessions)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Paths anyone may fetch: the sign-in page, assets, and the APIs (which
/// check credentials themselves).
fn is_public(path: &str) -> bool {
    path == "/login"
        || path == "/favicon.svg"
        || ["/pkg/", "/vendor/", "/api/"].iter().any(|prefix| path.starts_with(prefix))
}

/// Sends anyone without a session to /login, remembering the page asked for.
async fn require_sign_in(session: Session, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if request.method() == Method::GET && !is_public(path) && admin_in(&session).await.is_none() {
        let asked = request.uri().path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
        let encoded: String = form_urlencoded::byte_serialize(asked.as_bytes()).collect();
        return Redirect::to(&format!("/login?next={encoded}")).into_response();
    }
    next.run(request).await
}

/// Refuses server-function calls from other sites (CSRF): a POST to /api/…
/// (the cookie-authenticated server functions; the ingest API uses bearer
/// keys) must carry an Origin or Referer of this host.
async fn same_origin_server_fns(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let is_server_fn = path.starts_with("/api/") && !path.starts_with("/api/v1/");
    if request.method() != Method::GET && is_server_fn && !is_same_origin(request.headers()) {
        return (StatusCode::FORBIDDEN, "cross-origin request refused").into_response();
    }
    next.run(request).await
}

fn is_same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else { return false };
    let source = headers.get(header::ORIGIN).or_else(|| headers.get(header::REFERER));
    let Some(source) = source.and_then(|s| s.to_str().ok()) else { return false };
    let authority = source.split_once("://").map(|(_, rest)| rest.split('/').next().unwrap_or("")).unwrap_or("");
    authority.eq_ignore_ascii_case(host)
}

/// A bound listener plus the app to serve on it: binding first lets callers
/// (tests, the CLI) learn the real address, e.g. for port 0.
pub struct Server {
    listener: TcpListener,
    app: Router,
    store: Store,
    smtp: Option<TcpListener>,
    pushmail_domain: String,
}

impl Server {
    pub async fn bind(config: &Config) -> anyhow::Result<Server> {
        let store = open_store(config).await?;
        Server::bind_with_store(config, store).await
    }

    /// Like [`Server::bind`] with an already opened store (tests).
    pub async fn bind_with_store(config: &Config, store: Store) -> anyhow::Result<Server> {
        let listener = TcpListener::bind(config.site_addr)
            .await
            .with_context(|| format!("cannot listen on {} (is another server running there?)", config.site_addr))?;
        let mut leptos_options = config.leptos_options();
        leptos_options.site_addr = listener.local_addr()?;
        let limits = Arc::new(RateLimits::new(config.ingest_rate_per_sec));
        let state = AppState {
            leptos_options,
            store: store.clone(),
            limits,
            pushmail_domain: config.pushmail_domain.clone(),
            inbound_secret_hash: config.inbound_mail_secret.as_deref().filter(|s| !s.is_empty()).map(api_key::hash),
        };
        let smtp = match config.smtp_port {
            0 => None,
            port => {
                let addr = SocketAddr::new(config.site_addr.ip(), port);
                let listener = TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen for SMTP on {addr} (set SMTP_PORT, or 0 to disable)"))?;
                Some(listener)
            }
        };
        Ok(Server {
            listener,
            app: router(state, config.cookie_secure),
            store,
            smtp,
            pushmail_domain: config.pushmail_domain.clone(),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener has an address")
    }

    /// Starts the SMTP listener, if configured, in the background.
    fn start_smtp(&mut self) -> Option<SocketAddr> {
        let listener = self.smtp.take()?;
        let addr = listener.local_addr().ok()?;
        tracing::info!("accepting Push Mail by SMTP on {addr}");
        tokio::spawn(crate::smtp::serve(listener, self.store.clone(), self.pushmail_domain.clone()));
        Some(addr)
    }

    /// Serves until Ctrl-C / SIGTERM.
    pub async fn run(mut self) -> anyhow::Result<()> {
        tracing::info!("serving the Audience console on http://{}", self.local_addr());
        self.start_smtp();
        let sessions = self.store.session_store();
        let cleanup = tokio::spawn(sessions.continuously_delete_expired(tokio::time::Duration::from_secs(600)));
        let app = self.app.into_make_service_with_connect_info::<SocketAddr>();
        let result =
            axum::serve(self.listener, app).with_graceful_shutdown(shutdown_signal()).await.context("server stopped");
        cleanup.abort();
        result
    }

    /// Serves in the background (tests); the task ends with the runtime.
    /// Returns the web address and, if enabled, the SMTP address.
    pub fn spawn_with_smtp(mut self) -> (SocketAddr, Option<SocketAddr>) {
        let smtp = self.start_smtp();
        (self.spawn(), smtp)
    }

    /// Serves in the background (tests); the task ends with the runtime.
    pub fn spawn(self) -> SocketAddr {
        let addr = self.local_addr();
        let app = self.app.into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(self.listener, app).await });
        addr
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (k.clone(), v.parse().unwrap())).collect()
    }

    #[test]
    fn same_origin_needs_a_matching_origin_or_referer() {
        let host = (header::HOST, "127.0.0.1:3000");
        assert!(is_same_origin(&headers(&[host.clone(), (header::ORIGIN, "http://127.0.0.1:3000")])));
        assert!(is_same_origin(&headers(&[host.clone(), (header::REFERER, "http://127.0.0.1:3000/users?x=1")])));
        assert!(!is_same_origin(&headers(&[host.clone(), (header::ORIGIN, "http://evil.example")])));
        assert!(!is_same_origin(&headers(&[host.clone(), (header::ORIGIN, "http://127.0.0.1:3000.evil.example")])));
        assert!(!is_same_origin(&headers(&[host])));
    }
}
