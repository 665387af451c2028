//! Who may do what: every server function and API route, called as
//! anonymous, viewer and admin (and with another app's key), on SQLite and
//! PostgreSQL. A server function missing from the table fails the test.

mod common;

use std::collections::BTreeSet;

use app::store::Store;
use app::store_test;
use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// One server function: its path, the form it is called with, and the status
/// expected for anonymous, viewer and admin callers. `mutates` marks calls
/// that change data, which must be refused to anonymous callers and viewers.
struct Case {
    path: &'static str,
    form: Vec<(&'static str, String)>,
    expect: [u16; 3],
    mutates: bool,
}

/// The rows the table's calls name.
struct Named {
    app_b: i64,
    user: i64,
    message: i64,
    segment: i64,
    device: i64,
    doomed: i64,
    /// Notes by the admin account: one to edit, one to delete.
    notes: [i64; 2],
    /// A job another instance holds (so it is still under way).
    job: i64,
    /// A user to merge into `user`, and a merge done before (to undo).
    mergee: i64,
    merge: i64,
}

fn table(named: &Named) -> Vec<Case> {
    let Named { app_b, user, message, segment, device, doomed, notes: [edited, deleted], job, mergee, merge } = *named;
    let case = |path, form: Vec<(&'static str, String)>, expect, mutates| Case { path, form, expect, mutates };
    let user_form = || vec![("user_id", user.to_string())];
    vec![
        case("/api/users/list", vec![], [401, 200, 200], false),
        case("/api/live/overview", vec![], [401, 200, 200], false),
        case("/api/users/deleted-notice", vec![], [401, 200, 200], false),
        case("/api/profile/get", user_form(), [401, 200, 200], false),
        case("/api/messages/list", vec![("user_id", user.to_string()), ("limit", "20".into())], [401, 200, 200], false),
        case(
            "/api/messages/body",
            vec![("user_id", user.to_string()), ("message_id", message.to_string())],
            [401, 200, 200],
            false,
        ),
        case("/api/profile/push-mail/generate", user_form(), [401, 403, 200], true),
        case("/api/profile/push-mail/revoke", user_form(), [401, 403, 200], true),
        case("/api/segments/of-user", user_form(), [401, 200, 200], false),
        case(
            "/api/segments/search",
            vec![("user_id", user.to_string()), ("text", "vi".into())],
            [401, 200, 200],
            false,
        ),
        case("/api/segments/create", vec![("name", "Newcomers".into())], [401, 403, 200], true),
        // A Vec argument, URL-encoded the way the browser's server fn sends it.
        case(
            "/api/segments/add",
            vec![("user_id", user.to_string()), ("segment_ids[0]", segment.to_string())],
            [401, 403, 200],
            true,
        ),
        case(
            "/api/segments/remove",
            vec![("user_id", user.to_string()), ("segment_id", segment.to_string())],
            [401, 403, 200],
            true,
        ),
        case(
            "/api/properties/set",
            vec![
                ("user_id", user.to_string()),
                ("name", "plan".into()),
                ("kind", "string".into()),
                ("value", "pro".into()),
            ],
            [401, 403, 200],
            true,
        ),
        case(
            "/api/properties/remove",
            vec![("user_id", user.to_string()), ("name", "plan".into())],
            [401, 403, 200],
            true,
        ),
        case("/api/properties/history", user_form(), [401, 200, 200], false),
        case("/api/notes/list", user_form(), [401, 200, 200], false),
        case("/api/notes/add", vec![("user_id", user.to_string()), ("body", "Called".into())], [401, 403, 200], true),
        case(
            "/api/notes/edit",
            vec![("user_id", user.to_string()), ("note_id", edited.to_string()), ("body", "Edited".into())],
            [401, 403, 200],
            true,
        ),
        case(
            "/api/notes/delete",
            vec![("user_id", user.to_string()), ("note_id", deleted.to_string())],
            [401, 403, 200],
            true,
        ),
        case("/api/properties/suggest", vec![("name", "pl".into())], [401, 200, 200], false),
        case("/api/jobs/list", vec![], [401, 200, 200], false),
        case("/api/jobs/get", vec![("id", job.to_string())], [401, 200, 200], false),
        case("/api/jobs/import_limit", vec![], [401, 200, 200], false),
        case("/api/jobs/count", vec![("view", "q=u".into())], [401, 403, 200], false),
        case(
            "/api/jobs/bulk",
            vec![("action", "add_to_segment".into()), ("ids", user.to_string()), ("segment", "Bulk".into())],
            [401, 403, 200],
            true,
        ),
        case("/api/jobs/cancel", vec![("id", job.to_string())], [401, 403, 200], true),
        // Not a checked file: the admin is told so.
        case("/api/jobs/import", vec![("check", job.to_string())], [401, 403, 422], true),
        case("/api/activity/recent", user_form(), [401, 200, 200], false),
        case("/api/activity/search", user_form(), [401, 200, 200], false),
        case("/api/activity/histogram", user_form(), [401, 200, 200], false),
        case("/api/activity/types", vec![], [401, 200, 200], false),
        case("/api/activity/timeline", user_form(), [401, 200, 200], false),
        case("/api/devices/get", vec![("device_id", device.to_string())], [401, 200, 200], false),
        case(
            "/api/messages/send",
            vec![("user_id", user.to_string()), ("title", "Hi".into()), ("body", "Hello".into())],
            [401, 403, 200],
            true,
        ),
        case("/api/profile/access-log", user_form(), [401, 200, 200], false),
        case(
            "/api/profile/set-active",
            vec![("user_id", user.to_string()), ("active", "true".into())],
            [401, 403, 200],
            true,
        ),
        case(
            "/api/profile/delete",
            vec![("user_id", doomed.to_string()), ("confirmation", "doomed".into())],
            [401, 403, 200],
            true,
        ),
        case(
            "/api/merge/candidates",
            vec![("user_id", mergee.to_string()), ("search", "an".into()), ("limit", "5".into())],
            [401, 403, 200],
            false,
        ),
        case(
            "/api/merge/preview",
            vec![("user_id", mergee.to_string()), ("into", user.to_string())],
            [401, 403, 200],
            false,
        ),
        case(
            "/api/merge/merge",
            vec![("user_id", mergee.to_string()), ("into", user.to_string())],
            [401, 403, 200],
            true,
        ),
        case(
            "/api/merge/undo",
            vec![("merge_id", merge.to_string()), ("back_to", user.to_string())],
            [401, 403, 200],
            true,
        ),
        case("/api/auth/me", vec![], [401, 200, 200], false),
        // Choosing which app to look at is a view setting, open to viewers
        // (after the rows that need app A).
        case("/api/apps/switch", vec![("app_id", app_b.to_string())], [401, 200, 200], false),
        case(
            "/api/auth/login",
            vec![("email", "nobody@example.com".into()), ("password", "wrong password".into())],
            [401, 401, 401],
            false,
        ),
        // Last: it ends the session the other rows use.
        case("/api/auth/logout", vec![], [200, 200, 200], false),
    ]
}

store_test!(every_server_fn_checks_the_session_and_role, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_a, _) = app.new_app("A").await;
    let (app_b, _) = app.new_app("B").await;
    let input = app::store::UserInput { user_name: Some("Ana"), email: None };
    let user = app.store.upsert_user(app_a, &"u1".parse().unwrap(), &input, 1).await.unwrap().id;
    app.new_account("viewer@example.com", "viewer").await;
    app.new_account("admin@example.com", "admin").await;
    // What a refused mutation must leave as it was.
    let snapshot = || async {
        let token = app.store.push_token_of(app_a, user).await.unwrap();
        let segments = app.store.segments_of_user(app_a, user).await.unwrap();
        let properties = app.store.properties_of(user).await.unwrap();
        let notes = app.store.notes_of(user, None, 10).await.unwrap();
        (
            token,
            segments,
            properties,
            notes,
            app.store.count_segments(app_a).await.unwrap(),
            app.store.recent_audit(1).await.unwrap(),
        )
    };
    let segment = app::segments::service::create_as(&app.store, app_a, "VIP", "test").await.unwrap().0.id;

    let message = app::store::NewMessage {
        title: "Hi",
        body: "Hello",
        source: "api",
        sender: "test",
        envelope_sender: None,
        created_at: 1,
        attachments: &[],
    };
    let message = app.store.insert_message(app_a, user, &message).await.unwrap();
    let device_input = app::store::DeviceInput {
        user_external_id: Some("u1".parse().unwrap()),
        attributes: app::model::devices::DeviceAttributes { platform: "iOS".into(), ..Default::default() },
        ..Default::default()
    };
    let device = app.store.upsert_device(app_a, &"d1".parse().unwrap(), &device_input, 1).await.unwrap();
    let doomed = app.store.upsert_user(app_a, &"doomed".parse().unwrap(), &input, 1).await.unwrap().id;
    let author = app.store.admin_by_email("admin@example.com").await.unwrap().unwrap().id;
    let mut notes = [0; 2];
    for note in &mut notes {
        let mut tx = app.store.begin_write().await.unwrap();
        *note = tx.add_note(app_a, user, (author, "admin@example.com"), "A note", 1).await.unwrap().id;
        tx.commit().await.unwrap();
    }
    let held = app::store::NewJob {
        app_id: app_a,
        kind: app::jobs::model::JobKind::Deactivate,
        actor: "admin@example.com",
        description: "Deactivate: 1 selected user",
        params: "{}",
        total: 1,
        position: None,
        owner: Some("another-instance"),
    };
    let job = app.store.create_job(&held, app::time::now_ms()).await.unwrap();
    let mergee = app.store.upsert_user(app_a, &"mergee".parse().unwrap(), &input, 1).await.unwrap().id;
    let merged = app.store.upsert_user(app_a, &"merged".parse().unwrap(), &input, 1).await.unwrap().id;
    let merge = app.store.merge_users(app_a, (merged, user), &[], "test", app::time::now_ms()).await.unwrap().id;
    let cases = table(&Named { app_b, user, message, segment, device, doomed, notes, job, mergee, merge });
    let registered: BTreeSet<&str> = leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path).collect();
    let tabled: BTreeSet<&str> = cases.iter().map(|c| c.path).collect();
    assert_eq!(registered, tabled, "every server function needs a row in this table");

    let anonymous = app.browser();
    let viewer = app.browser();
    app.sign_in(&viewer, "viewer@example.com").await;
    let admin = app.browser();
    app.sign_in(&admin, "admin@example.com").await;

    for case in &cases {
        let before = snapshot().await;
        for (who, client, expected) in [("anonymous", &anonymous, 0), ("viewer", &viewer, 1), ("admin", &admin, 2)] {
            if case.mutates && expected == 2 {
                assert_eq!(snapshot().await, before, "{}: refused calls changed nothing", case.path);
            }
            let form: Vec<(&str, &str)> = case.form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (status, body) = app.server_fn(client, case.path, &form).await;
            let status = if status.is_redirection() { 200 } else { status.as_u16() };
            assert_eq!(status, case.expect[expected], "{} as {who}: {body}", case.path);
            if case.mutates && expected < 2 {
                assert!(status == 401 || status == 403, "{} must refuse {who}", case.path);
            }
        }
        // A job the admin started runs in the background: let it end before
        // the next row's snapshot (only the held job stays under way).
        for _ in 0..200 {
            let jobs = app.store.recent_jobs(app_a, 50).await.unwrap();
            if jobs.iter().all(|j| j.id == job || j.status.is_finished()) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    assert!(app.store.user_by_id(app_a, doomed).await.unwrap().is_none(), "the admin's delete went through");
});

store_test!(exports_are_for_admins_of_the_users_app, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_a, _) = app.new_app("A").await;
    let (app_b, _) = app.new_app("B").await;
    let input = app::store::UserInput { user_name: Some("Ana"), email: None };
    let user = app.store.upsert_user(app_a, &"u/1\"x".parse().unwrap(), &input, 1).await.unwrap().id;
    app.new_account("viewer@example.com", "viewer").await;
    app.new_account("admin@example.com", "admin").await;
    let viewer = app.browser();
    app.sign_in(&viewer, "viewer@example.com").await;
    let admin = app.browser();
    app.sign_in(&admin, "admin@example.com").await;
    for path in [format!("/api/users/{user}/export"), format!("/api/users/{user}/events.csv")] {
        let url = format!("{}{path}", app.base);
        let anonymous = app.browser().get(&url).send().await.unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{path}");
        let refused = viewer.get(&url).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(refused.text().await.unwrap().contains("Only admins"), "a JSON error");
        // Compressed, as a browser asks for it (the body is a stream).
        let compressed = admin.get(&url).header("Accept-Encoding", "gzip").send().await.unwrap();
        assert_eq!(compressed.headers()["content-encoding"], "gzip");
        let compressed = compressed.bytes().await.expect("the compressed download completes");
        assert!(compressed.starts_with(&[0x1f, 0x8b]), "a gzip stream");
        let response = admin.get(&url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let disposition = response.headers()["content-disposition"].to_str().unwrap().to_string();
        assert!(disposition.starts_with("attachment; filename=\"user-u_1_x-"), "{disposition}");
        let body = response.text().await.unwrap();
        if path.ends_with("export") {
            let json: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(json["profile"]["external_id"], "u/1\"x");
        } else {
            assert!(body.starts_with("id,occurred_at,event_type"), "{body}");
        }
    }
    let exports = app.store.recent_audit(2).await.unwrap();
    assert!(exports.iter().all(|e| e.action == "exported user" && e.actor == "admin@example.com"), "{exports:?}");
    // Another app's admin: the user is not there.
    let (status, _) = app.server_fn(&admin, "/api/apps/switch", &[("app_id", &app_b.to_string())]).await;
    assert_eq!(status, StatusCode::OK);
    let other = admin.get(format!("{}/api/users/{user}/export", app.base)).send().await.unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
});

store_test!(pages_need_a_session_and_server_fns_need_same_origin, |store: Store| async move {
    let app = TestApp::start(store).await;
    app.new_app("A").await;
    app.new_account("viewer@example.com", "viewer").await;
    let anonymous = app.browser();
    for (path, next) in
        [("/", "%2F"), ("/users", "%2Fusers"), ("/users?after=1.2", "%2Fusers%3Fafter%3D1.2"), ("/nope", "%2Fnope")]
    {
        let response = anonymous.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert!(response.status().is_redirection(), "{path}: {}", response.status());
        assert_eq!(response.headers()["location"], format!("/login?next={next}").as_str(), "{path}");
    }
    let login = anonymous.get(format!("{}/login", app.base)).send().await.unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    assert!(login.text().await.unwrap().contains("Sign in"));

    let viewer = app.browser();
    app.sign_in(&viewer, "viewer@example.com").await;
    let page = viewer.get(format!("{}/users", app.base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let missing = viewer.get(format!("{}/no-such-page", app.base)).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // Cross-site and origin-less POSTs are refused before the function runs.
    let url = format!("{}/api/users/list", app.base);
    let evil = viewer.post(&url).header("Origin", "http://evil.example").form(&[("x", "1")]).send().await.unwrap();
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    let bare = viewer.post(&url).form(&[("x", "1")]).send().await.unwrap();
    assert_eq!(bare.status(), StatusCode::FORBIDDEN);
    let same = app.server_fn(&viewer, "/api/users/list", &[]).await;
    assert_eq!(same.0, StatusCode::OK, "{}", same.1);
});

store_test!(sign_ins_are_audited_and_rate_limited, |store: Store| async move {
    let app = TestApp::start(store).await;
    app.new_app("A").await;
    app.new_account("admin@example.com", "admin").await;
    let browser = app.browser();
    app.sign_in(&browser, "admin@example.com").await;
    let (status, me) = app.server_fn(&browser, "/api/auth/me", &[]).await;
    assert_eq!(
        (status, me["email"].as_str(), me["role"].as_str()),
        (StatusCode::OK, Some("admin@example.com"), Some("Admin"))
    );

    let wrong = [("email", "admin@example.com"), ("password", "not the password")];
    let (status, body) = app.server_fn(&app.browser(), "/api/auth/login", &wrong).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.to_string().contains("Wrong email or password"), "{body}");

    let actions: Vec<(String, String)> =
        app.store.recent_audit(10).await.unwrap().into_iter().map(|e| (e.actor, e.action)).collect();
    assert!(actions.contains(&("admin@example.com".into(), "signed in".into())), "{actions:?}");
    assert!(actions.contains(&("admin@example.com".into(), "sign-in failed".into())), "{actions:?}");

    // 5 attempts per account at once: this is the 6th (and 7th) for admin@.
    let mut last = StatusCode::OK;
    for _ in 0..4 {
        last = app.server_fn(&app.browser(), "/api/auth/login", &wrong).await.0;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    let (status, body) = app
        .server_fn(&app.browser(), "/api/auth/login", &[("email", "admin@example.com"), ("password", common::PASSWORD)])
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    assert!(body.to_string().contains("Too many sign-in attempts"), "{body}");
});

store_test!(api_routes_need_this_apps_key_and_are_rate_limited, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (_, key_a) = app.new_app("A").await;
    let (_, key_b) = app.new_app("B").await;
    app.put("/api/v1/users/u1", &key_a, json!({})).await;
    app.put("/api/v1/devices/d1", &key_a, json!({"userID": "u1", "platform": "iOS"})).await;
    let routes = [
        (Method::PUT, "/api/v1/users/u1", json!({}), 422), // B may create its own u1, but not read A's
        (Method::PUT, "/api/v1/devices/d1", json!({"userID": "u1", "platform": "iOS"}), 422),
        (Method::POST, "/api/v1/devices/d1/locations", json!({"latitude": 1, "longitude": 1}), 404),
        (Method::POST, "/api/v1/events", json!([{"type": "x", "userID": "u1"}]), 422),
    ];
    for (method, path, body, other_app) in routes {
        let (status, _) = app.send(method.clone(), path, None, Some(&body)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} anonymous");
        let (status, _) = app.send(method.clone(), path, Some("aud_not_a_key"), Some(&body)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} bad key");
        if other_app != 422 || path != "/api/v1/users/u1" {
            let (status, err) = app.send(method.clone(), path, Some(&key_b), Some(&body)).await;
            assert_eq!(status.as_u16(), other_app, "{method} {path} with B's key: {err}");
        }
    }
    // B registering "u1" creates B's own user; A's stays untouched.
    let (status, user) = app.put("/api/v1/users/u1", &key_b, json!({"userName": "B's"})).await;
    assert_eq!((status, user["userName"].as_str()), (StatusCode::OK, Some("B's")));
});
