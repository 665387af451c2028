//! The axum app: pages and server functions (Leptos), the ingest API, static files.

use std::net::SocketAddr;

use anyhow::Context;
use app::state::AppState;
use app::store::{redact_url, Store};
use app::{shell, App};
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::config::Config;

/// Opens the database (running migrations) with an error that says which one failed.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    Store::connect(&config.database_url)
        .await
        .with_context(|| format!("cannot open database {}", redact_url(&config.database_url)))
}

/// The whole app as a router, ready to serve.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    Router::new()
        .nest("/api/v1", crate::ingest::routes())
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// A bound listener plus the app to serve on it: binding first lets callers
/// (tests, the CLI) learn the real address, e.g. for port 0.
pub struct Server {
    listener: TcpListener,
    app: Router,
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
        let state = AppState { leptos_options, store };
        Ok(Server { listener, app: router(state) })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener has an address")
    }

    /// Serves until Ctrl-C / SIGTERM.
    pub async fn run(self) -> anyhow::Result<()> {
        tracing::info!("serving the Audience console on http://{}", self.local_addr());
        axum::serve(self.listener, self.app).with_graceful_shutdown(shutdown_signal()).await.context("server stopped")
    }

    /// Serves in the background (tests); the task ends with the runtime.
    pub fn spawn(self) -> SocketAddr {
        let addr = self.local_addr();
        tokio::spawn(async move { axum::serve(self.listener, self.app).await });
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
