//! Checks every request passes before any handler sees it.

use axum::extract::Request;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use crate::web::SERVER_FN_BODY_LIMIT;

/// What a refused NUL says, on the API and on a page.
const NUL_REFUSED: &str = "The request contains a NUL character (U+0000), which no id, name or search text may hold.";

/// Refuses a NUL byte anywhere in the path, the query or a server
/// function's form, with a 400: PostgreSQL's text type cannot hold U+0000,
/// and one check here keeps every id and text that reaches a query, on
/// both databases alike, from carrying one (JSON bodies are checked field
/// by field by the ingest API's validation, which refuses every control
/// character).
pub async fn refuse_nul(request: Request, next: Next) -> Response {
    let uri = request.uri();
    let is_api = uri.path().starts_with("/api/");
    if has_nul(uri.path().as_bytes()) || uri.query().is_some_and(|q| has_nul(q.as_bytes())) {
        return nul_refused(is_api);
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let is_server_fn = is_api && !uri.path().starts_with("/api/v1/");
    if *request.method() != Method::POST || !is_form || !is_server_fn {
        return next.run(request).await;
    }
    // Server function forms are small (see `SERVER_FN_BODY_LIMIT`):
    // read whole, checked, handed on.
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, SERVER_FN_BODY_LIMIT).await else {
        let message = format!("request body too large (limit {} MiB)", SERVER_FN_BODY_LIMIT / 1024 / 1024);
        return crate::web::json_error(StatusCode::PAYLOAD_TOO_LARGE, &message);
    };
    if has_nul(&bytes) {
        return nul_refused(true);
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

/// A raw NUL, or one percent-encoded (`%00`: a `%` always starts an escape
/// in a well-formed URL or form, so this never matches a literal "%00",
/// which is sent as `%2500`).
fn has_nul(encoded: &[u8]) -> bool {
    encoded.contains(&0) || encoded.windows(3).any(|w| w == b"%00")
}

fn nul_refused(is_api: bool) -> Response {
    if is_api {
        return crate::web::json_error(StatusCode::BAD_REQUEST, NUL_REFUSED);
    }
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Bad request · Audience</title></head>\
         <body><main><h1>This address cannot be shown</h1><p role=\"alert\">{NUL_REFUSED}</p>\
         <p><a href=\"/users\">Back to the users list</a></p></main></body></html>"
    );
    (StatusCode::BAD_REQUEST, Html(html)).into_response()
}

#[cfg(test)]
mod tests {
    use super::has_nul;

    #[test]
    fn finds_raw_and_encoded_nul_but_not_an_encoded_percent() {
        assert!(has_nul(b"/devices/%00/inbox"));
        assert!(has_nul(b"q=a\0b"));
        assert!(has_nul(b"search=a%00b&x=1"));
        assert!(!has_nul(b"search=100%2500"), "a literal \"%00\" is sent as %2500");
        assert!(!has_nul(b"search=a%20b%0A"));
    }
}
