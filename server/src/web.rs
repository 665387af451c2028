//! The axum app: pages and server functions (Leptos), the ingest API, static
//! files, and the cross-cutting guards (sessions, sign-in, same-origin, limits).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};

use anyhow::Context;
use app::auth::api_key;
use app::auth::reads::RequestViews;
use app::auth::session::{admin_of, RequestApps};
use app::devices::model::MapTiles;
use app::limits::RateLimits;
use app::live::LiveHub;
use app::state::AppState;
use app::store::{redact_url, PgPoolSize, Store};
use app::{shell, App};
use axum::extract::Request;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tokio::net::TcpListener;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use crate::config::Config;
use crate::health::Health;
use crate::serve::{ClientSlots, ConnectionLimits};

/// Largest request body anywhere (the ingest API has its own, smaller limit).
const BODY_LIMIT: usize = 12 * 1024 * 1024;
/// Largest server-function call: forms and short texts, never files.
pub const SERVER_FN_BODY_LIMIT: usize = 1024 * 1024;

/// Opens the database (running migrations) with an error that says which one failed.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let size = PgPoolSize { warm: config.database_warm_connections, max: config.database_max_connections };
    Store::connect_with(&config.database_url, size)
        .await
        .with_context(|| format!("cannot open database {}", redact_url(&config.database_url)))
}

/// The pages Leptos serves, listed once per process.
///
/// Listing them renders the app with resource loading switched off through
/// a process-wide flag (leptos_server's `SuppressResourceLoad`): a resource
/// that starts loading anywhere in the process meanwhile waits forever, and
/// its page never answers. A server lists its pages before it serves, so
/// one server alone is safe; several in one process (the tests, each with its
/// own server) hung each other's pages now and then. Listed once, the flag
/// is never raised while a page renders.
pub fn page_routes() -> Vec<AxumRouteListing> {
    static PAGES: LazyLock<Vec<AxumRouteListing>> = LazyLock::new(|| generate_route_list(App));
    PAGES.clone()
}

/// The whole app as a router, ready to serve: the console and its APIs
/// behind the guards, and the health checks beside them (see `health`).
pub fn router(
    state: AppState,
    cookie_secure: bool,
    origin: String,
    connections: &ConnectionLimits,
    slots: Arc<ClientSlots>,
    health: Health,
) -> Router {
    let forwarded_cap = (slots, state.limits.clone(), connections.per_client);
    let trusted: Arc<[std::net::IpAddr]> = connections.trusted_proxies.clone().into();
    let routes = page_routes();
    let options = state.leptos_options.clone();
    let hashed = options.hash_files;
    let sessions = SessionManagerLayer::new(state.store.session_store())
        .with_name("audience_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(cookie_secure)
        .with_expiry(Expiry::OnInactivity(tower_sessions::cookie::time::Duration::hours(12)));
    Router::new()
        .nest("/api/v1", crate::ingest::routes().into_router())
        .nest(
            "/api",
            crate::live::routes().merge(crate::export::routes()).merge(crate::transfer::routes()).into_router(),
        )
        .leptos_routes_with_context(
            &state,
            routes,
            || {
                provide_context(RequestApps::default());
                provide_context(RequestViews::default());
            },
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(require_sign_in))
        .layer(middleware::from_fn(crate::edge::refuse_nul))
        .layer(middleware::from_fn_with_state(Arc::<str>::from(origin), same_origin_server_fns))
        .layer(sessions)
        .layer(middleware::from_fn(limit_bodies))
        .layer(middleware::from_fn(json_errors_on_api))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(middleware::from_fn_with_state(hashed, crate::assets::cache_policy))
        // Pages, API answers and the bundle, compressed (brotli or gzip, as
        // the client accepts); tower-http leaves server-sent events alone.
        .layer(CompressionLayer::new().quality(CompressionLevel::Precise(5)))
        // A body that stalls longer than a request head may is cut off.
        .layer(RequestBodyTimeoutLayer::new(connections.client_timeout))
        .layer(middleware::from_fn_with_state(forwarded_cap, ClientSlots::cap_forwarded))
        .layer(middleware::from_fn(crate::metrics::track))
        .layer(middleware::from_fn_with_state(trusted, crate::request_id::assign))
        .with_state(state)
        .merge(crate::health::routes().into_router().with_state(health))
}

/// Every axum route outside Leptos (pages and server functions are listed
/// by Leptos itself): method and full path, as the route matrix test reads them.
pub fn api_routes() -> Vec<(Method, String)> {
    let console = crate::live::routes().merge(crate::export::routes()).merge(crate::transfer::routes());
    let tables = [("/api/v1", crate::ingest::routes()), ("/api", console)];
    let listed = |prefix: &str, routes: &[(Method, String)]| {
        routes.iter().map(|(method, path)| (method.clone(), format!("{prefix}{path}"))).collect::<Vec<_>>()
    };
    tables
        .into_iter()
        .flat_map(|(prefix, table)| listed(prefix, table.listed()))
        .chain(listed("", crate::health::routes().listed()))
        .collect()
}

/// Paths anyone may fetch: the sign-in page, assets, and the APIs (which
/// check credentials themselves). A path with dot segments (`/pkg/../users`)
/// is never public: browsers never send one, and routing may resolve it
/// elsewhere than its prefix says.
fn is_public(path: &str) -> bool {
    let dotted = path.split('/').any(|segment| {
        let lower = segment.to_ascii_lowercase();
        matches!(lower.as_str(), "." | ".." | "%2e" | "%2e%2e" | ".%2e" | "%2e.")
    });
    !dotted
        && (path == "/login"
            || path == "/favicon.svg"
            || ["/pkg/", "/vendor/", "/api/"].iter().any(|prefix| path.starts_with(prefix)))
}

/// Sends anyone without a session to /login, remembering the page asked for.
async fn require_sign_in(session: Session, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let reads = matches!(*request.method(), Method::GET | Method::HEAD);
    let signed_in = if reads && !is_public(path) {
        match admin_of(&session).await {
            Ok(admin) => admin.is_some(),
            // An outage is not a sign-out: say so instead of asking to sign in.
            Err(_) => return database_unavailable_page(),
        }
    } else {
        true
    };
    if !signed_in {
        let asked = request.uri().path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
        let encoded: String = form_urlencoded::byte_serialize(asked.as_bytes()).collect();
        return Redirect::to(&format!("/login?next={encoded}")).into_response();
    }
    // The console's home is the users list; said by the server so it holds
    // without JavaScript (the router's <Redirect> only acts once hydrated).
    if reads && path == "/" {
        return Redirect::to("/users").into_response();
    }
    next.run(request).await
}

/// A page for when the database (which holds the sessions) cannot be read.
fn database_unavailable_page() -> Response {
    let html =
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Unavailable · Audience</title></head>\
        <body><main><h1>The console cannot reach its database</h1><p role=\"alert\">Nothing was changed. \
        Please try again in a moment.</p></main></body></html>";
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, axum::response::Html(html)).into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    response
}

/// Paths whose body is a file (CSV imports): their handlers stream it to
/// disk under the import limit (`IMPORT_MAX_MIB`) instead of [`BODY_LIMIT`].
const UPLOAD_PATHS: [&str; 2] = ["/api/v1/users/import", "/api/users/import"];

/// Every request body is limited to [`BODY_LIMIT`] (a longer declared one
/// is refused at once), but an upload's.
async fn limit_bodies(request: Request, next: Next) -> Response {
    if UPLOAD_PATHS.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|length| length > BODY_LIMIT) {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    let (parts, body) = request.into_parts();
    let limited = axum::body::Body::new(http_body_util::Limited::new(body, BODY_LIMIT));
    next.run(Request::from_parts(parts, limited)).await
}

/// Refuses server-function calls from other sites (CSRF): a POST to /api/…
/// (the cookie-authenticated server functions; the ingest API uses bearer
/// keys) must carry an Origin or Referer of the console's public origin.
async fn same_origin_server_fns(State(origin): State<Arc<str>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let is_server_fn = path.starts_with("/api/") && !path.starts_with("/api/v1/");
    let safe = matches!(*request.method(), Method::GET | Method::HEAD);
    if !safe && is_server_fn && !is_same_origin(request.headers(), &origin) {
        return json_error(StatusCode::FORBIDDEN, "cross-origin request refused");
    }
    if is_server_fn && !UPLOAD_PATHS.contains(&path) {
        // Reading past the limit fails the call with "length limit exceeded",
        // which `AppError` answers as 413.
        let (parts, body) = request.into_parts();
        let limited = axum::body::Body::new(http_body_util::Limited::new(body, SERVER_FN_BODY_LIMIT));
        return next.run(Request::from_parts(parts, limited)).await;
    }
    next.run(request).await
}

/// True when the request's Origin (or, without one, its Referer) is exactly
/// `origin`: scheme, host and port. The Host header is not trusted.
fn is_same_origin(headers: &HeaderMap, origin: &str) -> bool {
    if let Some(value) = headers.get(header::ORIGIN) {
        return value.to_str().is_ok_and(|v| v.eq_ignore_ascii_case(origin));
    }
    let Some(referer) = headers.get(header::REFERER).and_then(|r| r.to_str().ok()) else { return false };
    referer.len() >= origin.len()
        && referer[..origin.len()].eq_ignore_ascii_case(origin)
        && matches!(referer.as_bytes().get(origin.len()), None | Some(b'/'))
}

pub(crate) fn json_error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

/// Every error from `/api/…` is JSON: answers made by layers and routing
/// (body limit 413, 405, 404) come with a plain or empty body, which this
/// replaces with `{"error": …}` naming the status.
async fn json_errors_on_api(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_api || is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => format!("request body too large (limit {} MiB)", BODY_LIMIT / 1024 / 1024),
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed on this route".to_string(),
        other => other.canonical_reason().unwrap_or("error").to_ascii_lowercase(),
    };
    let mut replaced = json_error(status, &message);
    if let Some(allow) = response.headers().get(header::ALLOW) {
        replaced.headers_mut().insert(header::ALLOW, allow.clone());
    }
    replaced
}

/// A bound listener plus the app to serve on it: binding first lets callers
/// (tests, the CLI) learn the real address, e.g. for port 0.
pub struct Server {
    listener: TcpListener,
    app: Router,
    store: Store,
    smtp: Option<TcpListener>,
    pushmail_domain: String,
    limits: Arc<RateLimits>,
    live: LiveHub,
    retention_days: Option<u32>,
    connections: ConnectionLimits,
    slots: Arc<ClientSlots>,
    /// Set when shutdown begins (`/readyz` answers 503 from then on).
    draining: Arc<AtomicBool>,
    shutdown_delay: std::time::Duration,
    metrics_addr: Option<SocketAddr>,
    jobs: app::jobs::Jobs,
}

impl Server {
    pub async fn bind(config: &Config) -> anyhow::Result<Server> {
        let store = open_store(config).await?;
        // This month's and the next ones' event partitions exist before the
        // first event arrives (PostgreSQL), and the retention is applied.
        maintain_events(&store, config.event_retention_days).await?;
        Server::bind_with_store(config, store).await
    }

    /// Like [`Server::bind`] with an already opened store (tests).
    pub async fn bind_with_store(config: &Config, store: Store) -> anyhow::Result<Server> {
        let listener = TcpListener::bind(config.site_addr)
            .await
            .with_context(|| format!("cannot listen on {} (is another server running there?)", config.site_addr))?;
        let mut leptos_options = config.leptos_options();
        leptos_options.site_addr = listener.local_addr()?;
        let origin = config.origin(listener.local_addr()?)?;
        // On PostgreSQL several instances may share the database: the
        // sign-in and ingest limits are counted there, for all of them.
        let shared = store.is_postgres().then(|| store.clone());
        let limits = Arc::new(RateLimits::new(config.ingest_rate_per_sec, shared, config.trusted_proxies.clone()));
        let live = LiveHub::start(store.clone()).await.context("cannot start the live channel")?;
        let jobs = app::jobs::Jobs::new(config.jobs_config());
        let state = AppState {
            leptos_options,
            store: store.clone(),
            limits: limits.clone(),
            pushmail_domain: config.pushmail_domain.clone(),
            inbound_secret_hash: config.inbound_mail_secret.as_deref().filter(|s| !s.is_empty()).map(api_key::hash),
            live: live.clone(),
            map_tiles: MapTiles { url: config.map_tile_url.clone(), attribution: config.map_attribution.clone() },
            jobs: jobs.clone(),
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
        let connections = config.connection_limits();
        let slots = Arc::new(ClientSlots::default());
        let draining = Arc::new(AtomicBool::new(false));
        let health = Health { store: store.clone(), live: live.clone(), draining: draining.clone() };
        let metrics_addr = match config.metrics_addr {
            Some(addr) => Some(crate::metrics::serve(addr, store.clone()).await?),
            None => None,
        };
        Ok(Server {
            listener,
            app: router(state, config.cookie_secure, origin, &connections, slots.clone(), health),
            store,
            smtp,
            pushmail_domain: config.pushmail_domain.clone(),
            limits,
            live,
            retention_days: config.event_retention_days,
            connections,
            slots,
            draining,
            shutdown_delay: std::time::Duration::from_secs(config.shutdown_delay_secs),
            metrics_addr,
            jobs,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener has an address")
    }

    /// Where the metrics are served (`METRICS_ADDR`, its port resolved).
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Starts the SMTP listener, if configured, in the background.
    fn start_smtp(&mut self) -> Option<SocketAddr> {
        let listener = self.smtp.take()?;
        let addr = listener.local_addr().ok()?;
        tracing::info!("accepting Push Mail by SMTP on {addr}");
        let smtp = crate::smtp::Smtp {
            store: self.store.clone(),
            domain: self.pushmail_domain.clone(),
            limits: self.limits.clone(),
            live: self.live.clone(),
        };
        tokio::spawn(crate::smtp::serve(listener, smtp));
        Some(addr)
    }

    /// Serves until Ctrl-C / SIGTERM.
    pub async fn run(mut self) -> anyhow::Result<()> {
        tracing::info!("serving the Audience console on http://{}", self.local_addr());
        self.start_smtp();
        let runner = app::jobs::spawn(&self.jobs, self.store.clone());
        let sessions = self.store.session_store();
        let cleanup = tokio::spawn(sessions.continuously_delete_expired(tokio::time::Duration::from_secs(600)));
        let (store, retention) = (self.store.clone(), self.retention_days);
        let maintenance = tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                if let Err(err) = maintain_events(&store, retention).await {
                    tracing::error!("event maintenance failed: {err:#}");
                }
                let now_us = app::time::now_ms().saturating_mul(1000);
                if let Err(err) = store.forget_rate_limits(now_us).await {
                    tracing::error!("forgetting spent rate limits failed: {err:#}");
                }
                if let Err(err) = store.forget_event_minutes(app::time::now_ms()).await {
                    tracing::error!("forgetting old event minutes failed: {err:#}");
                }
            }
        });
        let (draining, live, delay) = (self.draining.clone(), self.live.clone(), self.shutdown_delay);
        let shutdown = async move {
            shutdown_signal().await;
            begin_shutdown(&draining, &live);
            if !delay.is_zero() {
                tracing::info!("not ready; closing the listener in {delay:?}");
                tokio::time::sleep(delay).await;
            }
        };
        crate::serve::serve(self.listener, self.app, self.connections, self.slots, shutdown).await;
        cleanup.abort();
        maintenance.abort();
        // The job in hand stops after its chunk and is handed back, so the
        // next instance (or this one, restarted) goes on at once.
        self.jobs.stop();
        let _ = runner.await;
        // Whatever the requests wrote is committed; close the pools cleanly.
        self.store.close().await;
        tracing::info!("stopped");
        Ok(())
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
        app::jobs::spawn(&self.jobs, self.store.clone());
        let never = std::future::pending();
        tokio::spawn(crate::serve::serve(self.listener, self.app, self.connections, self.slots, never));
        addr
    }
}

/// The first steps of a shutdown, before the listener closes: readiness
/// turns 503 (the balancer stops sending), and every live stream ends with
/// a reconnect hint (browsers resume on another instance; an open stream
/// would otherwise hold the drain for its whole length).
fn begin_shutdown(draining: &AtomicBool, live: &LiveHub) {
    draining.store(true, Ordering::Relaxed);
    live.close_streams();
}

/// Creates the coming months' event partitions and applies the retention.
async fn maintain_events(store: &Store, retention_days: Option<u32>) -> anyhow::Result<()> {
    let done = store.maintain_events(app::time::now_ms(), retention_days).await.context("event maintenance")?;
    if done != Default::default() {
        tracing::info!(created = ?done.created, dropped = ?done.dropped, deleted = done.deleted, "event maintenance");
    }
    Ok(())
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
    fn same_origin_needs_the_configured_origin() {
        let origin = "http://127.0.0.1:3000";
        let host = (header::HOST, "127.0.0.1:3000");
        let ok = |pairs: &[(header::HeaderName, &str)]| is_same_origin(&headers(pairs), origin);
        assert!(ok(&[host.clone(), (header::ORIGIN, "http://127.0.0.1:3000")]));
        assert!(ok(&[host.clone(), (header::REFERER, "http://127.0.0.1:3000/users?x=1")]));
        assert!(ok(&[(header::REFERER, "http://127.0.0.1:3000")]));
        assert!(!ok(&[host.clone(), (header::ORIGIN, "http://evil.example")]));
        assert!(!ok(&[host.clone(), (header::ORIGIN, "ftp://127.0.0.1:3000")]));
        assert!(!ok(&[host.clone(), (header::ORIGIN, "https://127.0.0.1:3000")]));
        assert!(!ok(&[host.clone(), (header::ORIGIN, "http://127.0.0.1:3000.evil.example")]));
        assert!(!ok(&[host.clone(), (header::REFERER, "http://127.0.0.1:3000.evil.example/")]));
        assert!(!ok(&[host.clone(), (header::REFERER, "http://127.0.0.1:30001/")]));
        // Host is not trusted: an attacker's Host and matching Origin fail.
        assert!(!ok(&[(header::HOST, "evil.test"), (header::ORIGIN, "http://evil.test")]));
        // An Origin that does not match is not rescued by a Referer that does.
        assert!(!ok(&[(header::ORIGIN, "http://evil.test"), (header::REFERER, "http://127.0.0.1:3000/")]));
        assert!(!ok(&[host]));
    }

    #[test]
    fn dot_segments_are_never_public() {
        assert!(is_public("/pkg/audience.js"));
        assert!(is_public("/login"));
        for path in ["/pkg/../users/23", "/pkg/%2e%2e/users", "/api/./x", "/vendor/.%2E/users", "/users"] {
            assert!(!is_public(path), "{path}");
        }
    }
}
