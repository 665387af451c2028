mod common;

use app::store::Store;
use app::store_test;
use common::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};

store_test!(users_are_created_updated_and_shown_in_the_console, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, key) = app.new_app("Shop").await;

    let (status, body) =
        app.put("/api/v1/users/u-42", &key, json!({"userName": "Zoë Ingest", "email": "zoe@example.com"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["userID"], "u-42");
    assert_eq!(body["active"], true);

    let (status, body) = app.put("/api/v1/users/u-42", &key, json!({"userName": "Zoë Renamed"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["email"], "zoe@example.com", "absent fields are kept");
    assert_eq!(app.store.count_active_users(app_id).await.unwrap(), 1);

    // The server-rendered Users page shows the new user.
    app.new_account("pm@example.com", "viewer").await;
    let browser = app.browser();
    app.sign_in(&browser, "pm@example.com").await;
    let html = browser.get(format!("{}/users", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Zoë Renamed") && html.contains("u-42"), "user missing from the Users page");
});

store_test!(every_route_requires_this_apps_key, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (_, key_a) = app.new_app("A").await;
    let (b_id, key_b) = app.new_app("B").await;
    let body = json!({"userName": "x"});

    let (status, err) = app.send(reqwest::Method::PUT, "/api/v1/users/u1", None, Some(&body)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(err["error"].as_str().unwrap().contains("missing API key"));
    assert_eq!(app.put("/api/v1/users/u1", "aud_wrong", body.clone()).await.0, StatusCode::UNAUTHORIZED);
    let basic = app
        .client
        .put(format!("{}/api/v1/users/u1", app.base))
        .header("Authorization", "Basic abc")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);

    // A's user and device are invisible to B's key.
    app.put("/api/v1/users/u1", &key_a, body.clone()).await;
    let (status, _) = app.put("/api/v1/devices/d1", &key_a, json!({"userID": "u1", "platform": "iOS"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, err) = app.post("/api/v1/devices/d1/locations", &key_b, json!({"latitude": 1, "longitude": 2})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{err}");
    assert_eq!(err["field"], "deviceID");
    let (status, err) = app.post("/api/v1/events", &key_b, json!([{"type": "x", "userID": "u1"}])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["field"], "[0].userID");
    let (status, _) = app.put("/api/v1/devices/d2", &key_b, json!({"userID": "u1", "platform": "iOS"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.store.count_active_users(b_id).await.unwrap(), 0);
    assert_eq!(app.store.count_events(b_id).await.unwrap(), 0);
});

store_test!(devices_and_locations, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, key) = app.new_app("A").await;
    app.put("/api/v1/users/u1", &key, json!({})).await;
    let device = json!({
        "userID": "u1", "platform": "Android", "osVersion": "14", "appVersion": "3.1.0", "sdkVersion": "4.2.0",
        "deviceString": "Pixel 8", "language": "pt", "timezone": "Europe/Lisbon", "transport": "FCM",
        "allowedUI": true, "locationServicesAuthStatus": "always", "bluetoothEnabled": false
    });
    let (status, body) = app.put("/api/v1/devices/d1", &key, device).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = app.store.device_id_by_external_id(app_id, "d1").await.unwrap().unwrap();

    let (status, body) = app
        .post("/api/v1/devices/d1/locations", &key, json!({"latitude": 38.72, "longitude": -9.14, "accuracy": 12.5}))
        .await;
    assert_eq!((status, body["accepted"].as_u64()), (StatusCode::CREATED, Some(1)));
    let many = json!([
        {"latitude": 38.7, "longitude": -9.1, "time": "2026-01-01T10:00:00Z"},
        {"latitude": 38.8, "longitude": -9.2, "time": "2026-01-01T11:00:00Z"}
    ]);
    assert_eq!(app.post("/api/v1/devices/d1/locations", &key, many).await.0, StatusCode::CREATED);
    assert_eq!(app.store.count_locations(id).await.unwrap(), 3);

    // One bad point rejects the whole request.
    let bad = json!([{"latitude": 38.7, "longitude": -9.1}, {"latitude": 91, "longitude": 0}]);
    let (status, err) = app.post("/api/v1/devices/d1/locations", &key, bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["field"], "[1].latitude");
    let (status, err) =
        app.post("/api/v1/devices/d1/locations", &key, json!({"latitude": "north", "longitude": 0})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["field"], "[0].latitude");
    let (status, _) = app
        .post(
            "/api/v1/devices/d1/locations",
            &key,
            json!({"latitude": 1, "longitude": 1, "time": "1970-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.store.count_locations(id).await.unwrap(), 3, "rejected requests wrote nothing");

    let (status, err) = app
        .put("/api/v1/devices/d9", &key, json!({"platform": "iOS", "locationServicesAuthStatus": "sometimes"}))
        .await;
    assert_eq!((status, err["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("locationServicesAuthStatus")));
    let (status, err) = app.put("/api/v1/devices/d9", &key, json!({"osVersion": "1"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "missing platform: {err}");
    assert_eq!(app.store.device_id_by_external_id(app_id, "d9").await.unwrap(), None);
});

store_test!(events_are_idempotent_and_validated, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, key) = app.new_app("A").await;
    app.put("/api/v1/users/u1", &key, json!({"userName": "Ana"})).await;
    app.put("/api/v1/devices/d1", &key, json!({"userID": "u1", "platform": "iOS"})).await;

    let batch = json!([
        {"id": "e1", "type": "re.notifica.event.application.Open", "userID": "u1", "deviceID": "d1", "sessionID": "s1"},
        {"id": "e2", "type": "custom.purchase", "deviceID": "d1", "data": {"value": 9.99}, "time": "2026-11-01T12:00:00Z"},
        {"type": "custom.anonymous"}
    ]);
    let (status, body) = app.post("/api/v1/events", &key, batch.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"accepted": 3, "duplicates": 0}));
    let (_, body) = app.post("/api/v1/events", &key, batch).await;
    assert_eq!(body, json!({"accepted": 1, "duplicates": 2}), "ids e1, e2 are not stored again");
    assert_eq!(app.store.count_events(app_id).await.unwrap(), 4);

    let cases = [
        (json!([{"type": "x", "userID": "ghost"}]), StatusCode::UNPROCESSABLE_ENTITY, Some("[0].userID")),
        (json!([{"type": "ok"}, {"type": ""}]), StatusCode::UNPROCESSABLE_ENTITY, Some("[1].type")),
        (json!([{"type": "x", "time": "yesterday"}]), StatusCode::UNPROCESSABLE_ENTITY, Some("[0].time")),
        (json!([{"type": "x", "color": "red"}]), StatusCode::UNPROCESSABLE_ENTITY, Some("[0].color")),
        (json!({"type": "x"}), StatusCode::UNPROCESSABLE_ENTITY, None),
        (
            json!([{"type": "x", "data": {"blob": "y".repeat(20_000)}}]),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("[0].data"),
        ),
    ];
    for (body, expected, field) in cases {
        let (status, err) = app.post("/api/v1/events", &key, body.clone()).await;
        assert_eq!(status, expected, "{body} -> {err}");
        assert!(err["error"].as_str().is_some_and(|e| !e.is_empty()), "JSON error message for {body}");
        if let Some(field) = field {
            assert_eq!(err["field"], field, "{body}");
        }
    }
    let too_many: Vec<Value> = (0..1001).map(|i| json!({"type": "bulk", "id": format!("b{i}")})).collect();
    let (status, err) = app.post("/api/v1/events", &key, Value::Array(too_many)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{err}");

    let raw =
        |body: Vec<u8>| app.client.post(format!("{}/api/v1/events", app.base)).bearer_auth(&key).body(body).send();
    let malformed = raw(b"[{\"type\": ".to_vec()).await.unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert!(malformed.json::<Value>().await.unwrap()["error"].as_str().unwrap().contains("malformed JSON"));
    let huge = raw(vec![b' '; 3 * 1024 * 1024]).await.unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(huge.json::<Value>().await.unwrap()["error"].as_str().unwrap().contains("too large"));

    assert_eq!(app.store.count_events(app_id).await.unwrap(), 4, "rejected requests wrote nothing");
    let (status, err) = app.post("/api/v1/nope", &key, json!({})).await;
    assert_eq!((status, err["error"].as_str()), (StatusCode::NOT_FOUND, Some("no such API route")));
});

store_test!(identifiers_with_invisible_characters_are_refused, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, key) = app.new_app("Shop").await;
    assert_eq!(app.put("/api/v1/users/VIP", &key, json!({})).await.0, StatusCode::OK);
    // "V\u{200B}IP" and "V\u{200E}IP" would sit beside "VIP" looking the same.
    for id in ["V%E2%80%8BIP", "V%E2%80%8EIP", "V%D8%9CIP", "%EF%BB%BFVIP"] {
        let (status, body) = app.put(&format!("/api/v1/users/{id}"), &key, json!({})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{id}: {body}");
        assert!(body["error"].as_str().unwrap_or_default().contains("invisible"), "{id}: {body}");
    }
    let (status, body) = app
        .post("/api/v1/events", &key, json!([{"type": "custom.x", "userID": "VIP", "deviceID": "d\u{200B}1"}]))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(app.store.count_active_users(app_id).await.unwrap(), 1, "nothing but VIP was written");
});
