//! Response headers of the HTML pages: a nonce-based Content-Security-Policy
//! (only the scripts the server rendered itself may run) and no caching of
//! pages that show personal data. Headers for every response (nosniff,
//! referrer policy) are set by the server's router.

use axum::http::{header, HeaderValue};
use leptos::nonce::use_nonce;
use leptos::prelude::use_context;

/// The policy for a page whose own inline scripts carry `nonce`.
///
/// - scripts: this origin's files and the nonce'd inline ones (Leptos'
///   hydration and resource scripts); `'wasm-unsafe-eval'` lets the bundle
///   compile; no `'unsafe-inline'`, so injected markup cannot run script;
/// - styles: inline `style` attributes are allowed (Leaflet positions map
///   tiles with them), styles cannot run script;
/// - images: this origin, data URLs, and https (Gravatar, map tiles);
/// - no plugins, no framing, no `<base>` or form posts elsewhere.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; connect-src 'self'; \
         font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sets the page's CSP (with this response's nonce) and `Cache-Control: no-store`.
/// Called while the document shell renders, before any byte is sent.
pub fn set_page_headers() {
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else { return };
    let Some(nonce) = use_nonce() else {
        tracing::error!("no nonce in context: the page is served without its CSP");
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&content_security_policy(&nonce)) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
    response.insert_header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

#[cfg(test)]
mod tests {
    use super::content_security_policy;

    #[test]
    fn scripts_need_the_nonce() {
        let csp = content_security_policy("abc123");
        let scripts = csp.split(';').find(|d| d.trim().starts_with("script-src")).unwrap();
        assert!(scripts.contains("'nonce-abc123'"), "{scripts}");
        assert!(!scripts.contains("unsafe-inline"), "{scripts}");
        assert!(!scripts.contains("*") && !scripts.contains("https:"), "{scripts}");
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("object-src 'none'"));
    }
}
