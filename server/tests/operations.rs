//! Running the console as a service: the health and readiness checks, the
//! Prometheus metrics (scraped from their own listener after an ingest and
//! a profile view), and request ids in answers and in the JSON log. On
//! SQLite and PostgreSQL where a store is involved.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use app::store::Store;
use app::store_test;
use common::instances::{free_port, start_logged};
use common::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn get(app: &TestApp, path: &str) -> (StatusCode, Value) {
    let response = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

store_test!(health_and_readiness_answer_without_a_session, |store: Store| async move {
    let app = TestApp::start(store.clone()).await;
    assert_eq!(get(&app, "/healthz").await, (StatusCode::OK, json!({"status": "ok"})));
    assert_eq!(get(&app, "/readyz").await, (StatusCode::OK, json!({"status": "ready"})));

    // A database an older build migrated: not ready, and the reason says why.
    store.forget_last_migration().await.unwrap();
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "unavailable");
    assert!(body["error"].as_str().is_some_and(|e| e.contains("migration")), "{body}");
    assert_eq!(get(&app, "/healthz").await.0, StatusCode::OK, "the process itself is fine");
});

/// The samples of a Prometheus text page: `name{labels}` → value.
async fn scrape(metrics: std::net::SocketAddr) -> HashMap<String, f64> {
    let page = reqwest::get(format!("http://{metrics}/metrics")).await.unwrap().text().await.unwrap();
    page.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// The value of the series named `name` whose labels include every one of
/// `labels` (summed over the others), 0 when there is none.
fn sample(samples: &HashMap<String, f64>, name: &str, labels: &[&str]) -> f64 {
    samples
        .iter()
        .filter(|(series, _)| {
            series.split('{').next() == Some(name) && labels.iter().all(|label| series.contains(label))
        })
        .map(|(_, value)| value)
        .sum()
}

store_test!(metrics_move_after_an_ingest_and_a_profile_view, |store: Store| async move {
    let (app, metrics) = TestApp::start_with_metrics(store).await;
    let (_, key) = app.new_app("Shop").await;
    app.new_account("admin@example.com", "admin").await;
    let before = scrape(metrics).await;

    let (status, _) = app.put("/api/v1/users/ana", &key, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let events = json!([
        {"id": "m-1", "type": "purchase", "userID": "ana"},
        {"id": "m-2", "type": "purchase", "userID": "ana"},
        {"id": "m-3", "type": "purchase", "userID": "ana"}
    ]);
    assert_eq!(app.post("/api/v1/events", &key, events.clone()).await.0, StatusCode::OK);
    assert_eq!(app.post("/api/v1/events", &key, events).await.0, StatusCode::OK, "again: duplicates");
    let bad = json!([{"type": "", "userID": "ana"}]);
    assert_eq!(app.post("/api/v1/events", &key, bad).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let browser = app.browser();
    app.sign_in(&browser, "admin@example.com").await;
    let user = app.store.list_apps().await.unwrap()[0].id;
    let ana = app.store.user_by_external_id(user, "ana").await.unwrap().unwrap().id.to_string();
    let (status, _) = app.server_fn(&browser, "/api/profile/get", &[("user_id", &ana)]).await;
    assert_eq!(status, StatusCode::OK);
    let wrong = [("email", "admin@example.com"), ("password", "not the password")];
    let (status, _) = app.server_fn(&app.browser(), "/api/auth/login", &wrong).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let after = scrape(metrics).await;
    let moved = |name: &str, labels: &[&str]| sample(&after, name, labels) - sample(&before, name, labels);
    assert!(moved("audience_ingest_events_total", &[r#"outcome="accepted""#]) >= 3.0, "{after:?}");
    assert!(moved("audience_ingest_events_total", &[r#"outcome="duplicate""#]) >= 3.0);
    assert!(moved("audience_ingest_events_total", &[r#"outcome="refused""#]) >= 1.0);
    assert!(moved("audience_ingest_batch_duration_seconds_count", &[]) >= 3.0);
    let events_route = [r#"route="/api/v1/events""#, r#"method="POST""#];
    assert!(moved("audience_http_requests_total", &[&events_route[..], &[r#"status="200""#]].concat()) >= 2.0);
    assert!(moved("audience_http_requests_total", &[&events_route[..], &[r#"status="422""#]].concat()) >= 1.0);
    let profile = [r#"route="/api/profile/get""#, r#"status="200""#];
    assert!(moved("audience_http_requests_total", &profile) >= 1.0, "the profile view is counted by its route");
    assert!(moved("audience_http_request_duration_seconds_count", &[r#"route="/api/profile/get""#]) >= 1.0);
    assert!(moved("audience_sign_in_failures_total", &[]) >= 1.0);
    assert!(moved("audience_db_write_wait_seconds_count", &[]) >= 1.0, "write transactions were timed");
    assert!(sample(&after, "audience_db_pool_max_connections", &[r#"pool="main""#]) >= 1.0, "pool gauges");
    // Paths are never labels: only route templates.
    assert!(!after.keys().any(|series| series.contains(&format!("/{ana}"))), "a user id in a label");
});

#[tokio::test]
async fn metrics_are_off_by_default_and_never_on_the_public_port() {
    let db = app::store::testing::sqlite().await;
    let app = TestApp::start(db.store.clone()).await;
    let response = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap();
    let text = response.text().await.unwrap();
    assert!(!text.contains("audience_http_requests_total"), "metrics on the public port: {text}");
    db.finish().await;
}

#[tokio::test]
async fn every_answer_has_a_request_id_and_a_client_cannot_choose_it() {
    let db = app::store::testing::sqlite().await;
    let app = TestApp::start(db.store.clone()).await;
    let mut ids = Vec::new();
    for path in ["/login", "/api/v1/events", "/no/such/page"] {
        let response = app.client.get(format!("{}{path}", app.base)).header("X-Request-Id", "forged").send().await;
        let response = response.unwrap();
        let id = response.headers()["x-request-id"].to_str().unwrap().to_string();
        assert_eq!(id.len(), 32, "{path}: {id}");
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{path}: {id}");
        ids.push(id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 3, "a new id per request");
    db.finish().await;
}

/// The binary with `LOG_FORMAT=json`: every log line is one JSON object,
/// and a request's lines carry its id, the one answered in `X-Request-Id`
/// (here passed on from a trusted proxy).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_request_id_of_a_trusted_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("audience.db").display());
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let env = [("LOG_FORMAT", "json"), ("RUST_LOG", "info,server::request_id=debug"), ("TRUSTED_PROXIES", "127.0.0.1")];
    let server = start_logged(free_port(), &database, &env, Stdio::from(log)).await;
    let response = common::client()
        .get(format!("{}/login", server.base))
        .header("X-Request-Id", "proxy-trace-0042")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "proxy-trace-0042");
    let forged = common::client()
        .get(format!("{}/login", server.base))
        .header("X-Request-Id", "two words")
        .send()
        .await
        .unwrap();
    assert_ne!(forged.headers()["x-request-id"], "two words", "an unsafe id is replaced");

    let mut found = None;
    for _ in 0..50 {
        let lines: Vec<String> =
            BufReader::new(std::fs::File::open(&log_path).unwrap()).lines().map_while(Result::ok).collect();
        for line in &lines {
            let parsed: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            if parsed["span"]["request_id"] == "proxy-trace-0042" {
                found = Some(parsed);
            }
        }
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let line = found.expect("a log line of the request, with its id");
    assert_eq!(line["span"]["method"], "GET");
    drop(server);
}

#[test]
fn every_metric_is_described_in_the_operations_guide() {
    let guide = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/OPERATIONS.md")).unwrap();
    for name in app::metrics::ALL {
        assert!(guide.contains(&format!("`{name}`")), "docs/OPERATIONS.md does not describe {name}");
    }
}
