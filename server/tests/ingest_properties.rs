//! User properties through the ingest API against a real server, on SQLite
//! and PostgreSQL: `PUT /api/v1/users/{userID}` merging `properties`, the
//! batch route `POST /api/v1/users/properties`, and every 422 (names,
//! types, the per-user limit) leaving nothing written.

mod common;

use app::model::properties::{PropertyValue, MAX_BATCH_USERS, MAX_NAME, MAX_PROPERTIES, MAX_STRING};
use app::store::Store;
use app::store_test;
use common::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Map, Value};

async fn properties_of(app: &TestApp, app_id: i64, user: &str) -> Vec<(String, PropertyValue)> {
    let Some(user) = app.store.user_by_external_id(app_id, user).await.unwrap() else { return Vec::new() };
    app.store.properties_of(user.id).await.unwrap().into_iter().map(|p| (p.name, p.value)).collect()
}

store_test!(put_merges_typed_properties_and_null_removes, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, key) = app.new_app("Shop").await;
    let body = json!({"userName": "Ana", "properties": {
        "plan": "pro", "seats": 3, "trial": true, "signup": "2026-01-02T03:04:05Z"
    }});
    let (status, answer) = app.put("/api/v1/users/ana", &key, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["propertiesChanged"], 4, "{answer}");
    let (status, answer) =
        app.put("/api/v1/users/ana", &key, json!({"properties": {"plan": "team", "trial": null, "seats": 3}})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["propertiesChanged"], 2, "plan changed and trial removed; seats unchanged: {answer}");
    assert_eq!(answer["userName"], "Ana", "absent fields keep their value");
    assert_eq!(
        properties_of(&app, app_id, "ana").await,
        vec![
            ("plan".into(), PropertyValue::String("team".into())),
            ("seats".into(), PropertyValue::Number(3.0)),
            ("signup".into(), PropertyValue::Date(1_767_323_045_000)),
        ]
    );
    let user = app.store.user_by_external_id(app_id, "ana").await.unwrap().unwrap();
    let history = app.store.property_history(user.id, None, 10).await.unwrap();
    assert_eq!(history.len(), 6, "four set, one changed, one removed");
    assert!(history.iter().all(|c| c.by == "api"));
});

store_test!(every_refused_property_is_a_422_naming_it_and_nothing_is_written, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, key) = app.new_app("Shop").await;
    let too_many: Map<String, Value> = (0..=MAX_PROPERTIES).map(|n| (format!("p{n}"), json!(n))).collect();
    let cases = [
        (json!({"nested": {"a": 1}}), "properties.nested", "objects and arrays"),
        (json!({"list": [1, 2]}), "properties.list", "objects and arrays"),
        (json!({"$plan": "x"}), "properties.$plan", "reserved"),
        (json!({"pl an": "x"}), "properties.pl an", "letters, digits"),
        (json!({"": "x"}), "properties.", "1–64"),
        (json!({ "n".repeat(MAX_NAME + 1): 1 }), &*format!("properties.{}", "n".repeat(MAX_NAME + 1)), "1–64"),
        (json!({"bio": "x".repeat(MAX_STRING + 1)}), "properties.bio", "at most 1000"),
        (Value::Object(too_many), "properties", "at most 100"),
    ];
    for (properties, field, words) in cases {
        let (status, answer) =
            app.put("/api/v1/users/ana", &key, json!({"userName": "Ana", "properties": properties})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {answer}");
        assert_eq!(answer["field"], field, "{answer}");
        assert!(answer["error"].as_str().unwrap().contains(words), "{field}: {answer}");
        assert!(app.store.user_by_external_id(app_id, "ana").await.unwrap().is_none(), "nothing written: {field}");
    }
    // The limit counts what is stored: 100 stored and one more is refused whole.
    let full: Map<String, Value> = (0..MAX_PROPERTIES).map(|n| (format!("p{n}"), json!(n))).collect();
    let (status, answer) = app.put("/api/v1/users/ana", &key, json!({"properties": full})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) =
        app.put("/api/v1/users/ana", &key, json!({"userName": "Changed", "properties": {"one": "more"}})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["field"], "properties", "{answer}");
    let ana = app.store.user_by_external_id(app_id, "ana").await.unwrap().unwrap();
    assert_eq!(ana.user_name, None, "the refused request's name was not written either");
});

store_test!(a_batch_sets_many_users_whole_or_not_at_all, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, key) = app.new_app("Shop").await;
    let (other_id, other_key) = app.new_app("Other").await;
    app.put("/api/v1/users/ana", &other_key, json!({"properties": {"plan": "gold"}})).await;
    let batch = json!([
        {"userID": "ana", "properties": {"plan": "pro", "seats": 2}},
        {"userID": "bob", "properties": {"plan": "free"}},
    ]);
    let (status, answer) = app.post("/api/v1/users/properties", &key, batch).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer, json!({"users": 2, "changed": 3}));
    assert_eq!(properties_of(&app, app_id, "bob").await, vec![("plan".into(), PropertyValue::String("free".into()))]);
    assert_eq!(
        properties_of(&app, other_id, "ana").await,
        vec![("plan".into(), PropertyValue::String("gold".into()))],
        "another app's user of the same userID is untouched"
    );

    let refused = json!([
        {"userID": "ana", "properties": {"plan": "team"}},
        {"userID": "cat", "properties": {"tags": ["a"]}},
    ]);
    let (status, answer) = app.post("/api/v1/users/properties", &key, refused).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["field"], "[1].properties.tags", "{answer}");
    assert_eq!(properties_of(&app, app_id, "ana").await[0].1, PropertyValue::String("pro".into()), "nothing written");
    assert!(properties_of(&app, app_id, "cat").await.is_empty());

    let (status, answer) = app.post("/api/v1/users/properties", &key, json!([{"userID": "", "properties": {}}])).await;
    assert_eq!((status, answer["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("[0].userID")), "{answer}");
    let (status, answer) =
        app.post("/api/v1/users/properties", &key, json!([{"userID": "dan", "properties": {}, "extra": 1}])).await;
    assert!(status.is_client_error(), "unknown fields are refused: {status} {answer}");
    let big: Vec<Value> =
        (0..=MAX_BATCH_USERS).map(|n| json!({"userID": format!("u{n}"), "properties": {"n": n}})).collect();
    let (status, answer) = app.post("/api/v1/users/properties", &key, Value::Array(big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
});

store_test!(the_server_rendered_profile_shows_properties_by_type, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (_, key) = app.new_app("Shop").await;
    let body =
        json!({"properties": {"plan": "<b>pro</b>", "seats": 1200, "trial": false, "signup": "2026-01-02T03:04:05Z"}});
    let (status, answer) = app.put("/api/v1/users/ana", &key, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    app.new_account("viewer@example.com", "viewer").await;
    let browser = app.browser();
    app.sign_in(&browser, "viewer@example.com").await;
    let page = browser.get(format!("{}{}", app.base, answer["consoleUrl"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let after = html.split_once("class=\"box properties-box\"").expect("the Properties box").1;
    let section = after.split_once("</section>").expect("the box's end").0;
    for shown in ["plan", "&lt;b&gt;pro&lt;/b&gt;", "1,200", "No", "2026-01-02 03:04 UTC"] {
        assert!(section.contains(shown), "{shown} in the server-rendered box");
    }
    assert!(!section.contains("<b>pro</b>"), "a value is escaped");
    assert!(!section.contains("Edit property"), "a viewer gets no edit controls");
});
