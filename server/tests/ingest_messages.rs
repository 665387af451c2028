//! The messages part of the ingest API over real HTTP, on SQLite and
//! PostgreSQL: send to a user, read a device's inbox (delivered), open one
//! (opened, idempotent); other apps' keys get 404 and change nothing.

mod common;

use app::store::Store;
use app::store_test;
use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::json;

store_test!(send_read_open_through_the_api, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (_, key) = app.new_app("Shop").await;
    let (_, other_key) = app.new_app("Other").await;
    app.put("/api/v1/users/ana", &key, json!({})).await;
    for device in ["phone", "tablet"] {
        let (status, body) =
            app.put(&format!("/api/v1/devices/{device}"), &key, json!({"userID": "ana", "platform": "iOS"})).await;
        assert!(status.is_success(), "{body}");
    }

    let (status, sent) = app.post("/api/v1/users/ana/messages", &key, json!({"title": "Hi", "body": "Welcome"})).await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let id = sent["messageId"].as_i64().expect("an id");
    // Bad input is a 4xx with a JSON message and writes nothing.
    let (status, error) = app.post("/api/v1/users/ana/messages", &key, json!({"title": "", "body": "x"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert!(error["error"].is_string(), "{error}");
    let (status, _) = app.post("/api/v1/users/ana/messages", &key, json!({"title": "x"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "body is required");
    let (status, _) = app.post("/api/v1/users/nobody/messages", &key, json!({"title": "x", "body": "y"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.post("/api/v1/users/ana/messages", &other_key, json!({"title": "x", "body": "y"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another app's key does not reach this app's users");

    // Another app's key can neither read nor open this app's inbox.
    let (status, _) = app.send(Method::GET, "/api/v1/devices/phone/inbox", Some(&other_key), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let open_path = format!("/api/v1/devices/phone/inbox/{id}/open");
    let (status, _) = app.send(Method::POST, &open_path, Some(&other_key), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, inbox) = app.send(Method::GET, "/api/v1/devices/phone/inbox", Some(&key), None).await;
    assert_eq!(status, StatusCode::OK, "{inbox}");
    let messages = inbox["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "only the valid message was stored: {inbox}");
    assert_eq!(messages[0]["id"], id);
    assert_eq!(messages[0]["body"], "Welcome");
    assert_eq!(messages[0]["status"], "delivered");
    assert!(messages[0]["deliveredAt"].is_string());

    let (status, opened) = app.send(Method::POST, &open_path, Some(&key), None).await;
    assert_eq!((status, opened["changed"].clone()), (StatusCode::OK, json!(true)), "{opened}");
    let (status, again) = app.send(Method::POST, &open_path, Some(&key), None).await;
    assert_eq!((status, again["changed"].clone()), (StatusCode::OK, json!(false)), "idempotent");
    let (status, _) = app.send(Method::POST, "/api/v1/devices/phone/inbox/999999/open", Some(&key), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The tablet still has it queued; it sees it as delivered once it reads.
    let (_, tablet) = app.send(Method::GET, "/api/v1/devices/tablet/inbox", Some(&key), None).await;
    assert_eq!(tablet["messages"][0]["status"], "delivered");
    let (_, phone) = app.send(Method::GET, "/api/v1/devices/phone/inbox", Some(&key), None).await;
    assert_eq!(phone["messages"][0]["status"], "opened");
});
