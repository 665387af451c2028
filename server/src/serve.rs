//! The connection loop: HTTP/1.1 with deadlines for slow and idle clients
//! and a cap on the connections one client holds. axum's own `serve` has
//! neither, so 1,000 clients that each send half a request line would hold
//! 1,000 sockets (and file descriptors) for ever.
//!
//! - A request's head must arrive within [`ConnectionLimits::client_timeout`]
//!   of the connection opening or of the previous response (hyper's header
//!   read timeout, which also closes an idle kept-alive connection).
//! - A request body must make progress within as long (`web::router`
//!   applies the same limit between body frames).
//! - One client address holds at most [`ConnectionLimits::per_client`]
//!   connections; more are closed as they arrive. Behind a proxy named in
//!   `TRUSTED_PROXIES` the proxy's own connections are not counted and the
//!   cap applies to the forwarded address's requests in flight
//!   ([`ClientSlots::cap_forwarded`]).

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use app::limits::RateLimits;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// How long a shutdown waits for requests in flight (a live stream never
/// ends by itself) before it closes what is left.
const DRAIN: Duration = Duration::from_secs(10);
/// How long sent data may go unacknowledged before the connection is
/// dropped; with the live streams' keep-alive every 10 s, a dead client
/// is noticed within about 25 s.
#[cfg(target_os = "linux")]
const UNACKNOWLEDGED: Duration = Duration::from_secs(15);

#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// The deadline for a request's head, an idle connection, and each
    /// stretch of a request body.
    pub client_timeout: Duration,
    /// Connections (behind a trusted proxy: requests in flight) per client address.
    pub per_client: usize,
    pub trusted_proxies: Vec<IpAddr>,
}

/// How many connections (or forwarded requests) each client address holds.
#[derive(Default)]
pub struct ClientSlots {
    held: Mutex<HashMap<IpAddr, usize>>,
}

/// One held connection or request; given back on drop.
pub struct ClientSlot {
    slots: Arc<ClientSlots>,
    ip: IpAddr,
}

impl ClientSlots {
    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        // One counter update per change: consistent after a panic.
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A slot for `ip`, unless it holds `cap` already.
    pub fn claim(self: &Arc<Self>, ip: IpAddr, cap: usize) -> Option<ClientSlot> {
        let mut held = self.held();
        let count = held.entry(ip).or_default();
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(ClientSlot { slots: self.clone(), ip })
    }

    /// Requests that came through a trusted proxy: at most `per_client`
    /// in flight per forwarded address (429 JSON past it).
    pub async fn cap_forwarded(
        State((slots, limits, per_client)): State<(Arc<ClientSlots>, Arc<RateLimits>, usize)>,
        request: Request,
        next: Next,
    ) -> Response {
        let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>().copied() else {
            return next.run(request).await;
        };
        if !limits.is_trusted_proxy(peer.ip()) {
            return next.run(request).await; // counted per connection
        }
        let forwarded = request.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
        let client = limits.client_ip(peer.ip(), forwarded);
        let Some(_slot) = slots.claim(client, per_client) else {
            metrics::counter!(app::metrics::RATE_LIMITED, "limit" => "client").increment(1);
            return crate::web::json_error(StatusCode::TOO_MANY_REQUESTS, "too many requests at once from this client");
        };
        next.run(request).await
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut held = self.slots.held();
        if let Some(count) = held.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.ip);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets the
/// requests in flight finish (for at most [`DRAIN`]).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    slots: Arc<ClientSlots>,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.client_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, or a connection reset while
                    // queued: wait a moment rather than spin.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let slot = if limits.trusted_proxies.contains(&peer.ip()) {
            None
        } else {
            match slots.claim(peer.ip(), limits.per_client) {
                Some(slot) => Some(slot),
                None => {
                    metrics::counter!(app::metrics::RATE_LIMITED, "limit" => "client").increment(1);
                    tracing::debug!(%peer, "connection refused: the client holds too many");
                    continue; // dropping the stream closes it
                }
            }
        };
        let _ = stream.set_nodelay(true);
        // Data unacknowledged this long ends the connection: a browser
        // that lost the network drops its live streams (and leaves the
        // profiles it had open) within seconds, not the kernel's minutes.
        #[cfg(target_os = "linux")]
        let _ = socket2::SockRef::from(&stream).set_tcp_user_timeout(Some(UNACKNOWLEDGED));
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(request.map(axum::body::Body::new))
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN) => tracing::info!("closing the connections still open after {DRAIN:?}"),
    }
}
