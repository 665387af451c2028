//! Who may call which route, for every route the server registers outside
//! the server functions (those are `authorization.rs`): the ingest API, the
//! inbound-mail webhook, the API's OpenAPI document, the live streams, the
//! exports, and the pages Leptos routes. Each is called as anonymous, viewer, admin, with this app's API
//! key, and as another app (its key, or an admin looking at it). The list of
//! routes comes from the server itself (`web::api_routes`, Leptos' route
//! list): a route without a row here fails the test, and every listed route
//! answers 405 to the methods it does not list. A refused call writes nothing.

mod common;

use std::collections::BTreeSet;

use app::store::Store;
use app::store_test;
use common::TestApp;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

/// One route: its method and registered path, the concrete path and body it
/// is called with, and the status expected for
/// [anonymous, viewer, admin, this app's key, the other app].
struct Row {
    method: Method,
    route: &'static str,
    path: String,
    body: Option<Value>,
    expect: [u16; 5],
}

const CALLERS: [&str; 5] = ["anonymous", "viewer", "admin", "app key", "other app"];

/// A page that needs a session sends the caller to sign in.
const SIGN_IN: u16 = 303;

fn rows(user: i64, message: i64, job: i64) -> Vec<Row> {
    let row = |method: Method, route: &'static str, path: String, body: Option<Value>, expect| Row {
        method,
        route,
        path,
        body,
        expect,
    };
    let api = |method: Method, route, path: &str, body: Option<Value>, own: u16, other: u16| {
        row(method, route, format!("/api/v1{path}"), body, [401, 401, 401, own, other])
    };
    let device = json!({"userID": "u1", "platform": "iOS"});
    let location = json!({"latitude": 48.85, "longitude": 2.35});
    let message_body = json!({"title": "Hi", "body": "Hello"});
    vec![
        // The other app's key creates its own "newcomer": apps never share users.
        api(Method::PUT, "/api/v1/users/{user_id}", "/users/newcomer", Some(json!({})), 200, 200),
        // A batch of properties creates its users in the key's own app too.
        api(
            Method::POST,
            "/api/v1/users/properties",
            "/users/properties",
            Some(json!([{"userID": "newcomer", "properties": {"plan": "pro"}}])),
            200,
            200,
        ),
        api(Method::PUT, "/api/v1/users/{user_id}/segments/{name}", "/users/u1/segments/VIP", None, 200, 404),
        api(Method::DELETE, "/api/v1/users/{user_id}/segments/{name}", "/users/u1/segments/VIP", None, 204, 404),
        api(Method::PUT, "/api/v1/devices/{device_id}", "/devices/d1", Some(device), 200, 422),
        api(Method::POST, "/api/v1/devices/{device_id}/locations", "/devices/d1/locations", Some(location), 201, 404),
        api(Method::GET, "/api/v1/devices/{device_id}/inbox", "/devices/d1/inbox", None, 200, 404),
        api(Method::HEAD, "/api/v1/devices/{device_id}/inbox", "/devices/d1/inbox", None, 200, 404),
        api(
            Method::POST,
            "/api/v1/devices/{device_id}/inbox/{message_id}/open",
            &format!("/devices/d1/inbox/{message}/open"),
            None,
            200,
            404,
        ),
        api(Method::POST, "/api/v1/users/{user_id}/messages", "/users/u1/messages", Some(message_body), 201, 404),
        // Merging "u2" (made for it) into "u1": the other app has neither.
        api(Method::POST, "/api/v1/users/{user_id}/merge", "/users/u2/merge", Some(json!({"into": "u1"})), 201, 404),
        api(Method::POST, "/api/v1/events", "/events", Some(json!([{"type": "tap", "userID": "u1"}])), 200, 422),
        // A CSV file (here a header alone, `"userID"`): a job of the key's
        // own app; never read without a key.
        api(Method::POST, "/api/v1/users/import", "/users/import", Some(json!("userID")), 202, 202),
        api(Method::GET, "/api/v1/jobs/{id}", &format!("/jobs/{job}"), None, 200, 404),
        api(Method::HEAD, "/api/v1/jobs/{id}", &format!("/jobs/{job}"), None, 200, 404),
        // The Import form's upload (this body is not a file form: an admin
        // is sent back to the form with the reason).
        row(Method::POST, "/api/users/import", "/api/users/import".into(), None, [401, 403, 303, 401, 303]),
        // The bulk export: the caller's own app's users, admins only.
        row(Method::GET, "/api/users/export.csv", "/api/users/export.csv".into(), None, [401, 403, 200, 401, 200]),
        row(Method::HEAD, "/api/users/export.csv", "/api/users/export.csv".into(), None, [401, 403, 200, 401, 200]),
        row(Method::GET, "/api/users/export.json", "/api/users/export.json".into(), None, [401, 403, 200, 401, 200]),
        row(Method::HEAD, "/api/users/export.json", "/api/users/export.json".into(), None, [401, 403, 200, 401, 200]),
        // The webhook takes its own secret, never a session or an app key.
        api(Method::POST, "/api/v1/inbound/mail", "/inbound/mail", None, 401, 401),
        // The API's OpenAPI document is public.
        row(Method::GET, "/api/v1/openapi.json", "/api/v1/openapi.json".into(), None, [200; 5]),
        row(Method::HEAD, "/api/v1/openapi.json", "/api/v1/openapi.json".into(), None, [200; 5]),
        // The balancer's checks: anyone, no session.
        row(Method::GET, "/healthz", "/healthz".into(), None, [200; 5]),
        row(Method::HEAD, "/healthz", "/healthz".into(), None, [200; 5]),
        row(Method::GET, "/readyz", "/readyz".into(), None, [200; 5]),
        row(Method::HEAD, "/readyz", "/readyz".into(), None, [200; 5]),
        // The Live page's stream: of the caller's own app, whichever it is.
        row(Method::GET, "/api/live/app", "/api/live/app".into(), None, [401, 200, 200, 401, 200]),
        row(Method::HEAD, "/api/live/app", "/api/live/app".into(), None, [401, 200, 200, 401, 200]),
        row(Method::GET, "/api/live/users/{id}", format!("/api/live/users/{user}"), None, [401, 200, 200, 401, 404]),
        row(Method::HEAD, "/api/live/users/{id}", format!("/api/live/users/{user}"), None, [401, 200, 200, 401, 404]),
        row(
            Method::GET,
            "/api/users/{id}/export",
            format!("/api/users/{user}/export"),
            None,
            [401, 403, 200, 401, 404],
        ),
        row(
            Method::HEAD,
            "/api/users/{id}/export",
            format!("/api/users/{user}/export"),
            None,
            [401, 403, 200, 401, 404],
        ),
        row(
            Method::GET,
            "/api/users/{id}/events.csv",
            format!("/api/users/{user}/events.csv"),
            None,
            [401, 403, 200, 401, 404],
        ),
        row(
            Method::HEAD,
            "/api/users/{id}/events.csv",
            format!("/api/users/{user}/events.csv"),
            None,
            [401, 403, 200, 401, 404],
        ),
    ]
}

/// Leptos' pages, GET only: `(route as Leptos lists it, path, expected)`.
fn page_rows(user: i64, device: i64, job: i64) -> Vec<(&'static str, String, [u16; 5])> {
    vec![
        ("/login", "/login".into(), [200, 200, 200, 200, 200]),
        ("/", "/".into(), [SIGN_IN, 303, 303, SIGN_IN, 303]),
        ("/users", "/users".into(), [SIGN_IN, 200, 200, SIGN_IN, 200]),
        ("/live", "/live".into(), [SIGN_IN, 200, 200, SIGN_IN, 200]),
        ("/users/{id}", format!("/users/{user}"), [SIGN_IN, 200, 200, SIGN_IN, 404]),
        ("/devices/{id}", format!("/devices/{device}"), [SIGN_IN, 200, 200, SIGN_IN, 404]),
        ("/users/import", "/users/import".into(), [SIGN_IN, 200, 200, SIGN_IN, 200]),
        ("/jobs", "/jobs".into(), [SIGN_IN, 200, 200, SIGN_IN, 200]),
        ("/jobs/{id}", format!("/jobs/{job}"), [SIGN_IN, 200, 200, SIGN_IN, 404]),
    ]
}

async fn call(
    client: &Client,
    base: &str,
    method: &Method,
    path: &str,
    key: Option<&str>,
    body: Option<&Value>,
) -> u16 {
    // Same-origin, as the console's own pages call: CSRF is tested apart.
    let mut request = client.request(method.clone(), format!("{base}{path}")).header("Origin", base);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    // Only the status: a live stream's body never ends, and dropping the
    // response closes it.
    request.send().await.expect("an answer").status().as_u16()
}

store_test!(every_route_answers_each_kind_of_caller_as_listed, |store: Store| async move {
    let (app, _) = TestApp::start_with_mail(store).await;
    let (app_a, key_a) = app.new_app("A").await;
    let (app_b, key_b) = app.new_app("B").await;
    app.put("/api/v1/users/u1", &key_a, json!({"userName": "Ana"})).await;
    app.put("/api/v1/devices/d1", &key_a, json!({"userID": "u1", "platform": "iOS"})).await;
    app.put("/api/v1/users/u2", &key_a, json!({})).await;
    let (status, sent) = app.post("/api/v1/users/u1/messages", &key_a, json!({"title": "T", "body": "B"})).await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let user = app.store.user_by_external_id(app_a, "u1").await.unwrap().unwrap().id;
    let device = app.store.device_id_by_external_id(app_a, "d1").await.unwrap().unwrap();
    let message = sent["messageId"].as_i64().expect("the message's id");
    app::segments::service::create_as(&app.store, app_a, "VIP", "test").await.unwrap();
    // A finished job of app A.
    let held = app::store::NewJob {
        app_id: app_a,
        kind: app::jobs::model::JobKind::Deactivate,
        actor: "admin@example.com",
        description: "Deactivate: 1 selected user",
        params: "{}",
        total: 0,
        position: None,
        owner: Some("another-instance"),
    };
    let job = app.store.create_job(&held, app::time::now_ms()).await.unwrap();
    app.new_account("viewer@example.com", "viewer").await;
    app.new_account("admin@example.com", "admin").await;
    app.new_account("other@example.com", "admin").await;

    let anonymous = app.browser();
    let viewer = app.browser();
    app.sign_in(&viewer, "viewer@example.com").await;
    let admin = app.browser();
    app.sign_in(&admin, "admin@example.com").await;
    let other = app.browser();
    app.sign_in(&other, "other@example.com").await;
    let (status, _) = app.server_fn(&other, "/api/apps/switch", &[("app_id", &app_b.to_string())]).await;
    assert_eq!(status, StatusCode::OK);
    let callers: [(&Client, Option<&str>); 5] =
        [(&anonymous, None), (&viewer, None), (&admin, None), (&anonymous, Some(&key_a)), (&other, Some(&key_b))];

    // Every registered route has a row, and no row names a route that is not.
    let rows = rows(user, message, job);
    let registered: BTreeSet<(String, String)> =
        server::web::api_routes().into_iter().map(|(m, p)| (m.to_string(), p)).collect();
    let tabled: BTreeSet<(String, String)> = rows.iter().map(|r| (r.method.to_string(), r.route.to_string())).collect();
    assert_eq!(registered, tabled, "every registered route needs a row in this table");
    let pages = page_rows(user, device, job);
    let leptos: BTreeSet<String> = server::web::page_routes().iter().map(|route| route.path().to_string()).collect();
    let paged: BTreeSet<String> = pages.iter().map(|(route, _, _)| route.to_string()).collect();
    assert_eq!(leptos, paged, "every page Leptos routes needs a row in this table");

    // Every cell is checked; the test fails with all the wrong ones listed.
    let mut wrong = Vec::new();
    let mut written = app.store.row_counts().await.unwrap();
    for row in &rows {
        for ((client, key), (who, expected)) in callers.iter().zip(CALLERS.iter().zip(row.expect)) {
            let status = call(client, &app.base, &row.method, &row.path, *key, row.body.as_ref()).await;
            if status != expected {
                wrong.push(format!("{} {} as {who}: {status}, expected {expected}", row.method, row.path));
            }
            let now = app.store.row_counts().await.unwrap();
            if status >= 400 {
                assert_eq!(now, written, "{} {} refused to {who} but wrote", row.method, row.path);
            }
            written = now;
        }
    }
    for (route, path, expect) in &pages {
        for ((client, _), (who, expected)) in callers.iter().zip(CALLERS.iter().zip(*expect)) {
            let status = call(client, &app.base, &Method::GET, path, None, None).await;
            if status != expected {
                wrong.push(format!("page {route} ({path}) as {who}: {status}, expected {expected}"));
            }
        }
    }

    // The webhook answers its own secret (an empty message is refused as such).
    let response = app
        .client
        .post(format!("{}/api/v1/inbound/mail", app.base))
        .bearer_auth(common::INBOUND_SECRET)
        .body("")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error() && response.status() != 401, "{}", response.status());

    // The list agrees with the handlers: every other method is refused.
    let all = [Method::GET, Method::HEAD, Method::POST, Method::PUT, Method::DELETE, Method::PATCH];
    for path in rows.iter().map(|r| r.route).collect::<BTreeSet<_>>() {
        let concrete = rows.iter().find(|r| r.route == path).unwrap().path.clone();
        for method in &all {
            if tabled.contains(&(method.to_string(), path.to_string())) {
                continue;
            }
            let status = call(&admin, &app.base, method, &concrete, Some(&key_a), None).await;
            if status != 405 {
                wrong.push(format!("{method} {path} is not listed, but answered {status}"));
            }
        }
    }
    assert!(wrong.is_empty(), "cells that differ from the table:\n{}", wrong.join("\n"));
});
