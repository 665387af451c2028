//! `PUT` / `DELETE /api/v1/users/{userID}/segments/{name}` against a real
//! server, on SQLite and PostgreSQL.

mod common;

use app::model::AuditEntry;
use app::store::Store;
use app::store_test;
use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn membership(app: &TestApp, method: Method, path: &str, key: Option<&str>) -> (StatusCode, Value) {
    app.send(method, path, key, None).await
}

async fn names_of(app: &TestApp, app_id: i64, external_id: &str) -> Vec<String> {
    let user = app.store.user_by_external_id(app_id, external_id).await.unwrap().unwrap();
    app.store.segments_of_user(app_id, user.id).await.unwrap().into_iter().map(|s| s.name).collect()
}

async fn api_audit(app: &TestApp, app_id: i64) -> Vec<AuditEntry> {
    let rows = app.store.recent_audit(100).await.unwrap();
    rows.into_iter().filter(|e| e.app_id == Some(app_id) && e.actor == "api").collect()
}

store_test!(put_creates_and_adds_idempotently, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, key) = app.new_app("Shop").await;
    app.put("/api/v1/users/u-42", &key, json!({"userName": "Zoë"})).await;

    let (status, body) = membership(&app, Method::PUT, "/api/v1/users/u-42/segments/VIP%20Gold", Some(&key)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["userID"].as_str(), body["created"].as_bool()), (Some("u-42"), Some(true)));
    assert_eq!(body["segment"]["name"], "VIP Gold");
    let id = body["segment"]["id"].as_i64().expect("segment id");

    // Again, in another case and with spaces: the same segment, nothing new.
    let (status, body) = membership(&app, Method::PUT, "/api/v1/users/u-42/segments/%20vip%20gold", Some(&key)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["segment"]["id"].as_i64(), body["created"].as_bool()), (Some(id), Some(false)));
    assert_eq!(body["added"], false);
    assert_eq!(names_of(&app, app_id, "u-42").await, ["VIP Gold"]);
    assert_eq!(app.store.count_segments(app_id).await.unwrap(), 1);

    // Unicode and reserved characters, percent-encoded.
    let (status, body) =
        membership(&app, Method::PUT, "/api/v1/users/u-42/segments/Lisboa%20%C3%A9%20%2F%20Porto", Some(&key)).await;
    assert_eq!((status, body["segment"]["name"].as_str()), (StatusCode::OK, Some("Lisboa é / Porto")), "{body}");
    assert_eq!(names_of(&app, app_id, "u-42").await, ["Lisboa é / Porto", "VIP Gold"]);

    let actions: Vec<String> = api_audit(&app, app_id).await.into_iter().rev().map(|e| e.action).collect();
    assert_eq!(actions, ["created segment", "added to segment", "created segment", "added to segment"]);
});

store_test!(delete_answers_204_then_404, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, key) = app.new_app("Shop").await;
    app.put("/api/v1/users/u1", &key, json!({})).await;
    membership(&app, Method::PUT, "/api/v1/users/u1/segments/Beta", Some(&key)).await;
    membership(&app, Method::PUT, "/api/v1/users/u1/segments/Churn%20risk", Some(&key)).await;

    let (status, body) = membership(&app, Method::DELETE, "/api/v1/users/u1/segments/BETA", Some(&key)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(names_of(&app, app_id, "u1").await, ["Churn risk"]);
    assert_eq!(api_audit(&app, app_id).await[0].action, "removed from segment");
    let audited = api_audit(&app, app_id).await.len();

    for path in
        ["/api/v1/users/u1/segments/Beta", "/api/v1/users/u1/segments/Nope", "/api/v1/users/ghost/segments/Beta"]
    {
        let (status, body) = membership(&app, Method::DELETE, path, Some(&key)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: JSON error {body}");
    }
    assert_eq!(api_audit(&app, app_id).await.len(), audited, "refused calls are not audited");
    assert_eq!(app.store.count_segments(app_id).await.unwrap(), 2, "leaving keeps the segment");
});

store_test!(unknown_users_and_bad_names_are_refused, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, key) = app.new_app("Shop").await;
    app.put("/api/v1/users/u1", &key, json!({})).await;

    let (status, body) = membership(&app, Method::PUT, "/api/v1/users/ghost/segments/VIP", Some(&key)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body["error"].as_str().unwrap().contains("ghost"), "{body}");

    let long = "x".repeat(65);
    // (A NUL is refused before routing: `hostile_input.rs`.)
    for name in ["%20%20", long.as_str(), "a%09b", "ab%E2%80%AEc"] {
        for method in [Method::PUT, Method::DELETE] {
            let (status, body) =
                membership(&app, method.clone(), &format!("/api/v1/users/u1/segments/{name}"), Some(&key)).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{method} {name}: {body}");
            assert_eq!(body["field"], "name", "{method} {name}: {body}");
        }
    }
    let (status, body) =
        membership(&app, Method::PUT, &format!("/api/v1/users/{}/segments/VIP", "u".repeat(300)), Some(&key)).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("userID")), "{body}");
    assert_eq!(app.store.count_segments(app_id).await.unwrap(), 0, "nothing created");
    assert!(api_audit(&app, app_id).await.is_empty());
});

store_test!(keys_are_required_and_scoped_to_their_app, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (a_id, key_a) = app.new_app("A").await;
    let (b_id, key_b) = app.new_app("B").await;
    app.put("/api/v1/users/u1", &key_a, json!({})).await;
    membership(&app, Method::PUT, "/api/v1/users/u1/segments/VIP", Some(&key_a)).await;

    for method in [Method::PUT, Method::DELETE] {
        let (status, body) = membership(&app, method.clone(), "/api/v1/users/u1/segments/VIP", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} without a key: {body}");
        let (status, _) = membership(&app, method.clone(), "/api/v1/users/u1/segments/VIP", Some("aud_nope")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} with a bad key");
        // B has no user u1: A's user cannot be reached with B's key.
        let (status, body) = membership(&app, method.clone(), "/api/v1/users/u1/segments/VIP", Some(&key_b)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} with B's key: {body}");
    }
    assert_eq!(names_of(&app, a_id, "u1").await, ["VIP"], "A's membership is untouched");
    assert_eq!(app.store.count_segments(b_id).await.unwrap(), 0, "B got no segment");
    assert_eq!(app.store.count_segments(a_id).await.unwrap(), 1);
});
