//! How long browsers may keep what the server sends. The bundle's files
//! (`/pkg/`) carry content hashes in their names when `cargo leptos build`
//! hashed them (`hash-files`), so they are cached for a year and never
//! revalidated: a new build links new names. Unhashed, they are revalidated
//! on every use (`no-cache`, answered 304 while unchanged). Vendored files
//! (Leaflet) and the icon change rarely: a day. Pages and API answers hold
//! personal data and are left to the handlers (not cached here).

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// A year, as `immutable`: for content-hashed file names only.
const HASHED: &str = "public, max-age=31536000, immutable";
const UNHASHED: &str = "no-cache";
const VENDORED: &str = "public, max-age=86400";

/// The `Cache-Control` of a static path, `None` for everything else.
pub fn cache_control(path: &str, hashed: bool) -> Option<&'static str> {
    if path.starts_with("/pkg/") {
        Some(if hashed { HASHED } else { UNHASHED })
    } else if path.starts_with("/vendor/") || path == "/favicon.svg" {
        Some(VENDORED)
    } else {
        None
    }
}

/// Middleware: sets [`cache_control`] on successful static answers that do
/// not set their own.
pub async fn cache_policy(State(hashed): State<bool>, request: Request, next: Next) -> Response {
    let policy = cache_control(request.uri().path(), hashed);
    let mut response = next.run(request).await;
    if let Some(policy) = policy {
        if response.status().is_success() && !response.headers().contains_key(header::CACHE_CONTROL) {
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hashed_bundles_are_cached_for_good() {
        assert_eq!(cache_control("/pkg/audience.1a2b.wasm", true), Some(HASHED));
        assert_eq!(cache_control("/pkg/audience.wasm", false), Some(UNHASHED));
        assert_eq!(cache_control("/vendor/leaflet/leaflet.js", true), Some(VENDORED));
        assert_eq!(cache_control("/users/1", true), None);
        assert_eq!(cache_control("/api/users/1/export", true), None);
    }
}
