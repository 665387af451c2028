//! `GET /api/v1/openapi.json`, fetched from a running server without a key:
//! an OpenAPI 3.1 document with an operation for every (method, path) the
//! ingest router registers, and none for a route it does not. With
//! `OPENAPI_OUT` set, the document is written there (CI lints that file
//! with a stock OpenAPI validator).

mod common;

use std::collections::BTreeSet;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::Value;

/// Where `web.rs` nests the ingest router.
const PREFIX: &str = "/api/v1";

#[tokio::test]
async fn the_openapi_document_describes_every_ingest_route() {
    let db = app::store::testing::sqlite().await;
    let app = TestApp::start(db.store.clone()).await;
    let url = format!("{}{PREFIX}/openapi.json", app.base);

    // Public: no key, no session.
    let response = app.client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(content_type.starts_with("application/json"), "Content-Type: {content_type}");
    let text = response.text().await.unwrap();
    if let Some(out) = std::env::var_os("OPENAPI_OUT") {
        std::fs::write(&out, &text).unwrap_or_else(|err| panic!("writing {}: {err}", out.to_string_lossy()));
    }
    let head = app.client.head(&url).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK, "HEAD {url}");

    let document: Value = serde_json::from_str(&text).expect("the document is JSON");
    let version = document["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.1"), "\"openapi\": {version:?}, expected 3.1.x");
    assert_eq!(document["info"]["title"], "Audience ingest API");

    // Every route the router registers has its operation...
    let registered: BTreeSet<(String, String)> = server::ingest::routes()
        .listed()
        .iter()
        .map(|(method, path)| (method.as_str().to_ascii_lowercase(), format!("{PREFIX}{path}")))
        .collect();
    let paths = document["paths"].as_object().expect("\"paths\" is an object");
    let missing: Vec<String> = registered
        .iter()
        .filter(|(method, path)| !paths.get(path).is_some_and(|item| item.get(method).is_some_and(Value::is_object)))
        .map(|(method, path)| format!("{} {path}", method.to_uppercase()))
        .collect();
    assert!(
        missing.is_empty(),
        "routes missing from the OpenAPI document (add #[utoipa::path]):\n{}",
        missing.join("\n")
    );

    // ...and the document describes no route the router does not have.
    const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    let documented: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS.iter().filter(|m| item.get(**m).is_some()).map(move |m| (m.to_string(), path.clone()))
        })
        .collect();
    let stale: Vec<String> =
        documented.difference(&registered).map(|(method, path)| format!("{} {path}", method.to_uppercase())).collect();
    assert!(stale.is_empty(), "the OpenAPI document describes routes the server does not have:\n{}", stale.join("\n"));

    // Every keyed route says so; the document itself needs no key.
    for (method, path) in &registered {
        let operation = &paths[path][method];
        let schemes: BTreeSet<&str> = operation["security"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .flat_map(|requirement| requirement.keys().map(String::as_str))
            .collect();
        let expected: &[&str] = match path.as_str() {
            "/api/v1/openapi.json" => &[],
            "/api/v1/inbound/mail" => &["inbound_secret"],
            _ => &["api_key"],
        };
        assert_eq!(schemes, expected.iter().copied().collect(), "security of {method} {path}");
    }
    // A path parameter names a `{segment}` of its path; anything else is
    // a query parameter declared in the wrong place.
    for (method, path) in &registered {
        for parameter in paths[path][method]["parameters"].as_array().into_iter().flatten() {
            let name = parameter["name"].as_str().unwrap_or_default();
            if parameter["in"] == "path" {
                assert!(
                    path.contains(&format!("{{{name}}}")),
                    "{method} {path}: path parameter {name:?} is not in the path"
                );
            }
        }
    }
    for scheme in ["api_key", "inbound_secret"] {
        assert_eq!(document["components"]["securitySchemes"][scheme]["scheme"], "bearer", "{scheme}");
    }

    drop(app);
    db.finish().await;
}
