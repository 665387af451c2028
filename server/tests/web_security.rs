//! The console as an attacker probes it: markup in stored names, hostile
//! `next` values, the security headers, same-origin checks, and every API
//! error answered as JSON with its 4xx. Both databases.

mod common;

use app::store::Store;
use app::store_test;
use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::json;

const PAYLOADS: [&str; 3] = [
    "</title><script>alert(document.domain)</script><title>",
    "<img src=x onerror=alert(1)>",
    "\"'><svg onload=alert(1)>",
];

store_test!(stored_names_never_become_markup_in_title_or_body, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (_, key) = app.new_app("A").await;
    app.new_account("admin@example.com", "admin").await;
    let browser = app.browser();
    app.sign_in(&browser, "admin@example.com").await;
    for (n, payload) in PAYLOADS.iter().enumerate() {
        // One user named by the payload, one whose userID is the payload (no name).
        let (status, named) = app.put(&format!("/api/v1/users/named-{n}"), &key, json!({"userName": payload})).await;
        assert_eq!(status, StatusCode::OK, "{named}");
        let id_path = format!("/api/v1/users/{}", urlencode(payload));
        let (status, by_id) = app.put(&id_path, &key, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{by_id}");
        for user in [&named, &by_id] {
            let page =
                browser.get(format!("{}{}", app.base, user["consoleUrl"].as_str().unwrap())).send().await.unwrap();
            assert_eq!(page.status(), StatusCode::OK);
            let html = page.text().await.unwrap();
            let title = html.split("<title>").nth(1).and_then(|t| t.split("</title>").next()).expect("a title");
            assert!(!title.contains('<') && !title.contains('>'), "markup in <title>: {title}");
            assert!(title.contains("&lt;"), "escaped text in <title>: {title}");
            for raw in ["<script>alert", "<img src=x", "<svg onload"] {
                assert!(!html.contains(raw), "{raw} unescaped in the profile HTML");
            }
        }
    }
    let list = browser.get(format!("{}/users", app.base)).send().await.unwrap().text().await.unwrap();
    for raw in ["<script>alert", "<img src=x", "<svg onload"] {
        assert!(!list.contains(raw), "{raw} unescaped in the users list");
    }
});

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>().replace('+', "%20")
}

store_test!(pages_carry_csp_with_their_nonce_and_the_other_headers, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, _) = app.new_app("A").await;
    let user =
        app.store.upsert_user(app_id, &"u1".parse().unwrap(), &app::store::UserInput::default(), 1).await.unwrap();
    app.new_account("admin@example.com", "admin").await;
    let browser = app.browser();
    app.sign_in(&browser, "admin@example.com").await;
    for (client, path) in
        [(&app.browser(), "/login".to_string()), (&browser, "/users".into()), (&browser, format!("/users/{}", user.id))]
    {
        let response = client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        let csp = headers["content-security-policy"].to_str().unwrap().to_string();
        let html = response.text().await.unwrap();
        let nonce = csp.split("'nonce-").nth(1).and_then(|n| n.split('\'').next()).expect("a nonce in the CSP");
        assert!(nonce.len() >= 16, "{csp}");
        assert!(
            !csp.contains("unsafe-inline'")
                || !csp.split(';').any(|d| d.contains("script-src") && d.contains("unsafe-inline"))
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        let scripts = html.matches("<script").count();
        assert!(scripts > 0, "{path} has its hydration scripts");
        assert_eq!(
            html.matches(&format!("nonce=\"{nonce}\"")).count(),
            scripts,
            "{path}: every script carries the nonce"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
        assert_eq!(headers["cache-control"], "no-store", "{path}");
    }
    // A fresh nonce per response.
    let nonce_of = |r: &reqwest::Response| r.headers()["content-security-policy"].to_str().unwrap().to_string();
    let a = nonce_of(&app.browser().get(format!("{}/login", app.base)).send().await.unwrap());
    let b = nonce_of(&app.browser().get(format!("{}/login", app.base)).send().await.unwrap());
    assert_ne!(a, b);
});

store_test!(sign_in_never_redirects_off_site_or_panics, |store: Store| async move {
    let app = TestApp::start(store).await;
    app.new_app("A").await;
    app.new_account("admin@example.com", "admin").await;
    let hostile = [
        "/\t/evil.test/phish",
        "/\n/evil.test",
        "/\r\n/evil.test",
        "//evil.test",
        "/\\evil.test",
        "https://evil.test",
        "/\u{ff0f}evil.test",
    ];
    for (n, next) in hostile.into_iter().enumerate() {
        // One account each: sign-ins are rate-limited per account.
        let email = format!("admin{n}@example.com");
        app.new_account(&email, "admin").await;
        let browser = app.browser();
        let form = [("email", email.as_str()), ("password", common::PASSWORD), ("next", next)];
        let response = browser
            .post(format!("{}/api/auth/login", app.base))
            .header("Origin", &app.base)
            .form(&form)
            .send()
            .await
            .expect("an answer, not a dropped connection");
        assert!(
            response.status().is_redirection() || response.status().is_success(),
            "{next:?}: {}",
            response.status()
        );
        let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_string());
        assert_eq!(location.as_deref(), Some("/users"), "{next:?}");
        assert!(response.headers().get("set-cookie").is_some(), "{next:?}: the session cookie arrives");
    }
    let browser = app.browser();
    let form = [("email", "admin@example.com"), ("password", common::PASSWORD), ("next", "/users?q=ana")];
    let response = browser
        .post(format!("{}/api/auth/login", app.base))
        .header("Origin", &app.base)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["location"], "/users?q=ana");
});

store_test!(head_and_dot_segment_requests_are_sent_to_sign_in, |store: Store| async move {
    let app = TestApp::start(store).await;
    let head = app.browser().request(Method::HEAD, format!("{}/users", app.base)).send().await.unwrap();
    assert!(head.status().is_redirection(), "HEAD /users: {}", head.status());
    // Raw, because HTTP clients normalise dot segments before sending.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!("GET /pkg/../users/23 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let status_line = answer.lines().next().unwrap_or("");
    assert!(status_line.contains(" 303 ") || status_line.contains(" 400 "), "{status_line}");
    assert!(!answer.contains("<html"), "no page shell for an anonymous visitor");
});

store_test!(csrf_checks_the_configured_origin_with_its_scheme, |store: Store| async move {
    let app = TestApp::start(store).await;
    app.new_app("A").await;
    app.new_account("viewer@example.com", "viewer").await;
    let viewer = app.browser();
    app.sign_in(&viewer, "viewer@example.com").await;
    let url = format!("{}/api/users/list", app.base);
    let host = app.base.trim_start_matches("http://");
    for (origin, host) in [(format!("ftp://{host}"), host.to_string()), ("http://evil.test".into(), "evil.test".into())]
    {
        let response =
            viewer.post(&url).header("Origin", &origin).header("Host", &host).form(&[("x", "1")]).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin} / {host}");
        assert!(response.json::<serde_json::Value>().await.unwrap()["error"].is_string());
    }
});

store_test!(api_errors_are_json_with_their_4xx, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (_, key) = app.new_app("A").await;
    app.new_account("viewer@example.com", "viewer").await;
    let viewer = app.browser();
    app.sign_in(&viewer, "viewer@example.com").await;
    let send = |method: Method, path: &str, body: Vec<u8>| {
        app.client.request(method, format!("{}{path}", app.base)).bearer_auth(&key).body(body).send()
    };
    let expect_json = async |response: reqwest::Response, status: u16, what: &str| {
        let actual = response.status().as_u16();
        let ctype = response.headers().get("content-type").map(|c| c.to_str().unwrap().to_string());
        let text = response.text().await.unwrap();
        assert_eq!(actual, status, "{what}: {text}");
        assert!(ctype.as_deref().is_some_and(|c| c.starts_with("application/json")), "{what}: {ctype:?}");
        let body: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{what}: {body}");
    };
    // Trailing data after the JSON value.
    expect_json(send(Method::POST, "/api/v1/events", b"[][]".to_vec()).await.unwrap(), 400, "two arrays").await;
    expect_json(send(Method::PUT, "/api/v1/users/x", br#"{"userName":"a"} xyz"#.to_vec()).await.unwrap(), 400, "tail")
        .await;
    assert_eq!(app.store.count_events(1).await.unwrap(), 0);
    // Wrong method, unknown route, too large a body.
    expect_json(send(Method::DELETE, "/api/v1/events", vec![]).await.unwrap(), 405, "DELETE /events").await;
    expect_json(send(Method::GET, "/api/v1/nope", vec![]).await.unwrap(), 404, "unknown route").await;
    expect_json(send(Method::POST, "/api/v1/events", vec![b' '; 13 * 1024 * 1024]).await.unwrap(), 413, "13 MiB").await;
    expect_json(send(Method::POST, "/api/v1/events", vec![b' '; 3 * 1024 * 1024]).await.unwrap(), 413, "3 MiB").await;
    // Bidi controls in names.
    let (status, body) = app.put("/api/v1/users/u-1", &key, json!({"userName": "evil\u{202e}gnp.exe"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = app.put("/api/v1/users/u\u{202e}1", &key, json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Server functions: bad cursor, too long a search, bad arguments, huge body.
    let call = |form: Vec<(&'static str, String)>| {
        viewer.post(format!("{}/api/users/list", app.base)).header("Origin", &app.base).form(&form).send()
    };
    expect_json(call(vec![("cursor", "garbage".into())]).await.unwrap(), 422, "bad cursor").await;
    expect_json(call(vec![("search", "a".repeat(201))]).await.unwrap(), 422, "201 characters").await;
    expect_json(call(vec![("deactivated", "perhaps".into())]).await.unwrap(), 400, "bad argument").await;
    expect_json(call(vec![("search", "a".repeat(2_200_000))]).await.unwrap(), 413, "2.2 MB").await;
    let (status, body) = app.server_fn(&viewer, "/api/profile/get", &[("user_id", "not a number")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
});

store_test!(pages_and_answers_are_compressed_but_live_streams_are_not, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (_, key) = app.new_app("A").await;
    app.new_account("admin@example.com", "admin").await;
    let browser = app.browser();
    app.sign_in(&browser, "admin@example.com").await;
    let (_, user) = app.put("/api/v1/users/u1", &key, json!({"userName": "Ana"})).await;
    let page = format!("{}{}", app.base, user["consoleUrl"].as_str().unwrap());
    for (accept, expected) in [("br", Some("br")), ("gzip", Some("gzip")), ("identity", None)] {
        let response = browser.get(&page).header("Accept-Encoding", accept).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let encoding = response.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_string());
        assert_eq!(encoding.as_deref(), expected, "the profile page with Accept-Encoding: {accept}");
        let vary = response.headers().get("vary").map(|v| v.to_str().unwrap().to_ascii_lowercase());
        assert!(vary.is_some_and(|v| v.contains("accept-encoding")), "caches must key on the encoding");
    }
    // Server-sent events stay uncompressed (a compressor would hold them back).
    let id = user["consoleUrl"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let stream = browser
        .get(format!("{}/api/live/users/{id}", app.base))
        .header("Accept-Encoding", "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(stream.headers().get("content-encoding").is_none(), "{:?}", stream.headers());
});

store_test!(bundle_files_compressed_at_build_are_sent_as_built, |store: Store| async move {
    // `cargo leptos build --release --precompress` leaves `x.wasm.br` and
    // `x.wasm.gz` beside `x.wasm`; those bytes go out as they are (compressed
    // once, at the highest level), never compressed again per request.
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let raw = b"\0asm raw bundle ".repeat(4096);
    std::fs::write(pkg.join("audience.abc123.wasm"), &raw).unwrap();
    std::fs::write(pkg.join("audience.abc123.wasm.br"), b"brotli as built").unwrap();
    std::fs::write(pkg.join("audience.abc123.wasm.gz"), b"gzip as built").unwrap();
    std::fs::write(pkg.join("plain.js"), "let a = 1;\n".repeat(2048)).unwrap();
    let root = site.path().to_str().unwrap().to_string();
    let (app, _) = TestApp::start_configured(store, |config| config.site_root = root).await;
    let client = reqwest::Client::new();
    let fetch = |path: &'static str, accept: &'static str| {
        let url = format!("{}{path}", app.base);
        let client = client.clone();
        async move {
            let response = client.get(url).header("Accept-Encoding", accept).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{path} with {accept}");
            let encoding = response.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_string());
            (encoding, response.bytes().await.unwrap().to_vec())
        }
    };
    let wasm = "/pkg/audience.abc123.wasm";
    assert_eq!(fetch(wasm, "br, gzip").await, (Some("br".into()), b"brotli as built".to_vec()));
    assert_eq!(fetch(wasm, "gzip").await, (Some("gzip".into()), b"gzip as built".to_vec()));
    assert_eq!(fetch(wasm, "identity").await, (None, raw));
    // A file without a precompressed copy is still compressed, per request.
    let (encoding, body) = fetch("/pkg/plain.js", "br").await;
    assert_eq!(encoding.as_deref(), Some("br"));
    assert!(body.len() < 2048, "compressed: {} B", body.len());
});
