//! Prometheus metrics: the recorder (installed once per process when
//! `METRICS_ADDR` is set), the HTTP middleware that counts requests by route
//! template, and the listener that serves `GET /metrics` on its own
//! address (never the public port: the figures say how busy each customer
//! app is). The metrics themselves are named in `app::metrics`.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Instant;

use anyhow::Context;
use app::metrics::{DB_POOL_CONNECTIONS, DB_POOL_MAX, HTTP_DURATION, HTTP_REQUESTS};
use app::store::Store;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

/// Histogram buckets of every `…_seconds` metric: from a cached read (1 ms)
/// to the write retries' window (10 s).
const SECONDS_BUCKETS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// How often buffered histogram samples are folded into their buckets.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The process's recorder; the first call installs it (from a Tokio
/// runtime, which runs its upkeep).
pub fn recorder() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)?
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    app::metrics::describe();
    // Histogram samples wait in buffers until an upkeep folds them into
    // their buckets: without one between scrapes (or with no scraper at
    // all) the buffers would grow with every request.
    let upkeep = handle.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(UPKEEP_EVERY).await;
            upkeep.run_upkeep();
        }
    });
    Ok(HANDLE.get_or_init(|| handle).clone())
}

/// Counts each request by method, route template and status, and times it.
/// Routes are templates (`/users/{id}`), never paths, so the series stay
/// few; a request no route matched (files, unknown paths) is `fallback`.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("fallback", MatchedPath::as_str).to_string();
    let method = request.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!(HTTP_DURATION, "method" => method.clone(), "route" => route.clone()).record(started.elapsed());
    metrics::counter!(HTTP_REQUESTS, "method" => method, "route" => route, "status" => status).increment(1);
    response
}

/// Listens on `addr` for scrapes (`GET /metrics`); returns the address
/// listened on (tests ask for port 0).
pub async fn serve(addr: SocketAddr, store: Store) -> anyhow::Result<SocketAddr> {
    let handle = recorder()?;
    let listener =
        TcpListener::bind(addr).await.with_context(|| format!("cannot listen for metrics on {addr} (METRICS_ADDR)"))?;
    let local = listener.local_addr()?;
    let app = Router::new().route("/metrics", get(scrape)).with_state((handle, store));
    tracing::info!("serving metrics on http://{local}/metrics");
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "the metrics listener stopped");
        }
    });
    Ok(local)
}

/// The metrics now, the pools' gauges read at this moment.
async fn scrape(State((handle, store)): State<(PrometheusHandle, Store)>) -> Response {
    for pool in store.pool_stats() {
        let in_use = pool.open.saturating_sub(pool.idle);
        metrics::gauge!(DB_POOL_CONNECTIONS, "pool" => pool.pool, "state" => "in_use").set(in_use);
        metrics::gauge!(DB_POOL_CONNECTIONS, "pool" => pool.pool, "state" => "idle").set(pool.idle);
        metrics::gauge!(DB_POOL_MAX, "pool" => pool.pool).set(pool.max);
    }
    handle.run_upkeep();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()).into_response()
}
