//! Every read that returns a person's data is in that person's access log,
//! whatever the route. The routes come from the server itself (the server
//! functions, `web::api_routes`, Leptos' pages): each is classed here as a
//! read of one person (and of what: profile, device, messages, activity,
//! live) or not, so a new route without a class fails the test, and each
//! person-reading route is called by an account of its own, which must
//! then be in the log. On SQLite and PostgreSQL.

mod common;

use std::collections::BTreeSet;

use app::model::profile::Viewed;
use app::store::Store;
use app::store_test;
use common::TestApp;
use reqwest::StatusCode;
use serde_json::json;

/// What a route shows of one person.
enum Reads {
    /// The person's data, logged as this kind of view.
    Person(Viewed, Call),
    /// The same, from a route only admins may call.
    PersonToAdmins(Viewed, Call),
    /// Exports write their own entry ("exported user"; `authorization.rs`).
    Exported,
    /// Nobody's in particular, or only to the customer's own app by its key
    /// (the API), which the console's access log is not about.
    NoOne,
}

/// How the test calls a route as a signed-in account.
enum Call {
    ServerFn(Vec<(&'static str, String)>),
    Get(String),
}

/// Every route the server registers, as `(kind, name)`: server functions by
/// path, other routes by method and path, pages by path.
fn registered() -> BTreeSet<String> {
    let server_fns = leptos::server_fn::axum::server_fn_paths().map(|(path, _)| format!("fn {path}"));
    let routes = server::web::api_routes().into_iter().map(|(method, path)| format!("{method} {path}"));
    let pages = server::web::page_routes().iter().map(|route| format!("page {}", route.path())).collect::<Vec<_>>();
    server_fns.chain(routes).chain(pages).collect()
}

fn table(user: i64, other: i64, device: i64, message: i64) -> Vec<(&'static str, Reads)> {
    use Reads::{Exported, NoOne, Person, PersonToAdmins};
    let of_user = || Call::ServerFn(vec![("user_id", user.to_string())]);
    let api = [
        "PUT /api/v1/users/{user_id}",
        "POST /api/v1/users/properties",
        "PUT /api/v1/users/{user_id}/segments/{name}",
        "DELETE /api/v1/users/{user_id}/segments/{name}",
        "PUT /api/v1/devices/{device_id}",
        "POST /api/v1/devices/{device_id}/locations",
        "GET /api/v1/devices/{device_id}/inbox",
        "HEAD /api/v1/devices/{device_id}/inbox",
        "POST /api/v1/devices/{device_id}/inbox/{message_id}/open",
        "POST /api/v1/users/{user_id}/messages",
        "POST /api/v1/users/{user_id}/merge",
        "POST /api/v1/events",
        "POST /api/v1/inbound/mail",
        "POST /api/v1/users/import",
        // A job's progress and refused rows (the file's userIDs as written).
        "GET /api/v1/jobs/{id}",
        "HEAD /api/v1/jobs/{id}",
    ];
    let mut rows: Vec<(&'static str, Reads)> = api.into_iter().map(|route| (route, NoOne)).collect();
    rows.extend([
        ("fn /api/profile/get", Person(Viewed::Profile, of_user())),
        ("fn /api/profile/access-log", Person(Viewed::Profile, of_user())),
        ("fn /api/segments/of-user", Person(Viewed::Profile, of_user())),
        ("fn /api/properties/history", Person(Viewed::Profile, of_user())),
        ("fn /api/notes/list", Person(Viewed::Profile, of_user())),
        ("fn /api/devices/get", Person(Viewed::Device, Call::ServerFn(vec![("device_id", device.to_string())]))),
        (
            "fn /api/messages/list",
            Person(Viewed::Messages, Call::ServerFn(vec![("user_id", user.to_string()), ("limit", "20".into())])),
        ),
        (
            "fn /api/messages/body",
            Person(
                Viewed::Messages,
                Call::ServerFn(vec![("user_id", user.to_string()), ("message_id", message.to_string())]),
            ),
        ),
        ("fn /api/activity/recent", Person(Viewed::Activity, of_user())),
        ("fn /api/activity/search", Person(Viewed::Activity, of_user())),
        ("fn /api/activity/histogram", Person(Viewed::Activity, of_user())),
        ("fn /api/activity/timeline", Person(Viewed::Activity, of_user())),
        ("GET /api/live/users/{id}", Person(Viewed::Live, Call::Get(format!("/api/live/users/{user}")))),
        ("page /users/{id}", Person(Viewed::Profile, Call::Get(format!("/users/{user}")))),
        ("page /devices/{id}", Person(Viewed::Device, Call::Get(format!("/devices/{device}")))),
        // Headers only: nothing of the person is sent.
        ("HEAD /api/live/users/{id}", NoOne),
        ("GET /api/users/{id}/export", Exported),
        ("HEAD /api/users/{id}/export", Exported),
        ("GET /api/users/{id}/events.csv", Exported),
        ("HEAD /api/users/{id}/events.csv", Exported),
        // Segment names and membership flags for the picker; the profile's
        // own reads log the view.
        ("fn /api/segments/search", NoOne),
        // A list of many users (a directory page), not one person's data.
        ("fn /api/users/list", NoOne),
        ("fn /api/merge/candidates", NoOne),
        // Both users' properties: both logs get the view (`other` checked below).
        (
            "fn /api/merge/preview",
            PersonToAdmins(
                Viewed::Profile,
                Call::ServerFn(vec![("user_id", other.to_string()), ("into", user.to_string())]),
            ),
        ),
        // Property names and values seen across the app, for the filter builder.
        ("fn /api/properties/suggest", NoOne),
        // The whole app's activity (many users), not one person's page.
        ("fn /api/live/overview", NoOne),
        // Many users at once: audited once in the app's trail ("exported
        // users", with the selection in words), not in each one's log.
        ("GET /api/users/export.csv", NoOne),
        ("HEAD /api/users/export.csv", NoOne),
        ("GET /api/users/export.json", NoOne),
        ("HEAD /api/users/export.json", NoOne),
        // Jobs: their progress, outcome and refused rows, not a person's page.
        ("fn /api/jobs/list", NoOne),
        ("fn /api/jobs/get", NoOne),
        ("fn /api/jobs/count", NoOne),
        ("fn /api/jobs/import_limit", NoOne),
        ("page /jobs", NoOne),
        ("page /jobs/{id}", NoOne),
        ("page /users/import", NoOne),
        ("GET /api/live/app", NoOne),
        ("HEAD /api/live/app", NoOne),
        ("page /users", NoOne),
        ("page /live", NoOne),
        ("page /", NoOne),
        ("page /login", NoOne),
        // The service's own state and the API's description.
        ("GET /healthz", NoOne),
        ("HEAD /healthz", NoOne),
        ("GET /readyz", NoOne),
        ("HEAD /readyz", NoOne),
        ("GET /api/v1/openapi.json", NoOne),
        ("HEAD /api/v1/openapi.json", NoOne),
    ]);
    let app_wide = [
        "fn /api/users/deleted-notice",
        "fn /api/activity/types",
        "fn /api/auth/me",
        "fn /api/auth/login",
        "fn /api/auth/logout",
        "fn /api/apps/switch",
        "fn /api/segments/create",
        "fn /api/segments/add",
        "fn /api/segments/remove",
        "fn /api/properties/set",
        "fn /api/properties/remove",
        "fn /api/notes/add",
        "fn /api/notes/edit",
        "fn /api/notes/delete",
        "fn /api/merge/merge",
        "fn /api/merge/undo",
        "fn /api/profile/push-mail/generate",
        "fn /api/profile/push-mail/revoke",
        "fn /api/messages/send",
        "fn /api/profile/set-active",
        "fn /api/profile/delete",
        "fn /api/jobs/bulk",
        "fn /api/jobs/cancel",
        "fn /api/jobs/import",
        "POST /api/users/import",
    ];
    // Changes (admins only) answer with what changed, and are audited as
    // changes; the rest read no one's data.
    rows.extend(app_wide.into_iter().map(|route| (route, NoOne)));
    rows
}

store_test!(every_read_of_a_persons_data_is_in_their_access_log, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, key) = app.new_app("A").await;
    app.put("/api/v1/users/u1", &key, json!({"userName": "Ana", "email": "ana@example.com"})).await;
    app.put("/api/v1/devices/d1", &key, json!({"userID": "u1", "platform": "iOS"})).await;
    let (status, sent) = app.post("/api/v1/users/u1/messages", &key, json!({"title": "Hi", "body": "Hello"})).await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let user = app.store.user_by_external_id(app_id, "u1").await.unwrap().unwrap().id;
    let device = app.store.device_id_by_external_id(app_id, "d1").await.unwrap().unwrap();
    let message = sent["messageId"].as_i64().unwrap();

    app.put("/api/v1/users/u2", &key, json!({"userName": "Bo"})).await;
    let other = app.store.user_by_external_id(app_id, "u2").await.unwrap().unwrap().id;
    let rows = table(user, other, device, message);
    let tabled: BTreeSet<String> = rows.iter().map(|(route, _)| route.to_string()).collect();
    assert_eq!(registered(), tabled, "every route needs a row here: does it return a person's data?");

    let mut missing = Vec::new();
    for (n, (route, reads)) in rows.into_iter().enumerate() {
        let (viewed, call, role) = match reads {
            Reads::Person(viewed, call) => (viewed, call, "viewer"),
            Reads::PersonToAdmins(viewed, call) => (viewed, call, "admin"),
            _ => continue,
        };
        // An account of its own: only this route can have written its entry.
        let email = format!("reader{n}@example.com");
        app.new_account(&email, role).await;
        let reader = app.browser();
        app.sign_in(&reader, &email).await;
        let status = match call {
            Call::ServerFn(form) => {
                let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                app.server_fn(&reader, route.trim_start_matches("fn "), &form).await.0
            }
            // A stream answers with its headers; dropping it closes it.
            Call::Get(path) => reader.get(format!("{}{path}", app.base)).send().await.unwrap().status(),
        };
        assert_eq!(status, StatusCode::OK, "{route}");
        let log = app.store.recent_audit(50).await.unwrap();
        let logged = log.iter().any(|e| e.actor == email && e.user_id == Some(user) && e.action == viewed.action());
        if !logged {
            missing.push(format!("{route}: no \"{}\" entry", viewed.action()));
        }
    }
    assert!(missing.is_empty(), "reads missing from the access log:\n{}", missing.join("\n"));

    // Coalesced: one account reading the same kind again and again is one entry.
    app.new_account("again@example.com", "viewer").await;
    let reader = app.browser();
    app.sign_in(&reader, "again@example.com").await;
    for _ in 0..3 {
        let (status, _) = app.server_fn(&reader, "/api/activity/search", &[("user_id", &user.to_string())]).await;
        assert_eq!(status, StatusCode::OK);
    }
    let log = app.store.recent_audit(50).await.unwrap();
    let entries =
        log.iter().filter(|e| e.actor == "again@example.com" && e.action == Viewed::Activity.action()).count();
    assert_eq!(entries, 1, "one entry per account, person and kind within the coalescing window: {log:?}");
});
