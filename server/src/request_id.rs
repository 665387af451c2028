//! Request ids: every request gets one, answered in `X-Request-Id` and
//! carried by every log line of the request (a `request` span around the
//! whole handling, server functions included). An id sent by the client is
//! taken only from a proxy named in `TRUSTED_PROXIES` (the proxy's id ties
//! its log to ours); from anyone else it could forge or flood log lines, so
//! a new one is made.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest id taken from a proxy.
const MAX_FORWARDED_LEN: usize = 128;

/// This request's id (a request extension, for handlers that report it).
#[derive(Debug, Clone)]
pub struct RequestId(pub HeaderValue);

/// An id a trusted proxy may pass on: 1 to 128 characters of letters,
/// digits and `-_.:` (a UUID, a trace id), so it is safe in headers and logs.
fn acceptable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    (1..=MAX_FORWARDED_LEN).contains(&bytes.len())
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// A new id: 128 random bits in hex.
fn new_id() -> HeaderValue {
    HeaderValue::from_str(&format!("{:032x}", rand::random::<u128>())).expect("hex is a valid header value")
}

/// Gives the request its id, runs it inside a `request` span naming the id,
/// method and path, logs its end (debug), and answers the id.
pub async fn assign(State(trusted): State<Arc<[IpAddr]>>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
    let from_proxy = peer.is_some_and(|ip| trusted.contains(&ip));
    let id = request
        .headers()
        .get(&X_REQUEST_ID)
        .filter(|value| from_proxy && acceptable(value))
        .cloned()
        .unwrap_or_else(new_id);
    request.headers_mut().insert(X_REQUEST_ID.clone(), id.clone());
    request.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!(
        "request",
        request_id = id.to_str().unwrap_or_default(),
        method = %request.method(),
        path = ?request.uri().path(),
    );
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    span.in_scope(|| tracing::debug!(status = response.status().as_u16(), latency = ?started.elapsed(), "answered"));
    response.headers_mut().insert(X_REQUEST_ID.clone(), id);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_ids_are_short_and_plain() {
        let ok = |s: &str| acceptable(&HeaderValue::from_str(s).unwrap());
        assert!(ok("5f0c6a8e-3b1d-4c2a-9e7f-0a1b2c3d4e5f"));
        assert!(ok("trace:abc.def_1"));
        assert!(!ok(""));
        assert!(!ok("has space"));
        assert!(!ok("quote\"d"));
        assert!(!ok(&"a".repeat(MAX_FORWARDED_LEN + 1)));
        assert_eq!(new_id().len(), 32);
    }
}
