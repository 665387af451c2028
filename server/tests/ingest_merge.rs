//! `POST /api/v1/users/{userID}/merge` against a real server, on SQLite and
//! PostgreSQL: the merge, asked again (idempotent), the old userID routed
//! to the kept user by every write that names it, and the undo handing
//! what arrived that way to the restored user.

mod common;

use app::store::Store;
use app::store_test;
use common::TestApp;
use reqwest::StatusCode;
use serde_json::json;

store_test!(a_merge_through_the_api_and_the_alias_after_it, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, key) = app.new_app("Shop").await;
    app.put("/api/v1/users/anon-7", &key, json!({"properties": {"plan": "trial", "source": "ad"}})).await;
    app.put("/api/v1/users/acct-1", &key, json!({"userName": "Ana", "properties": {"plan": "pro"}})).await;
    let events = json!([{"type": "tap", "userID": "anon-7"}, {"type": "tap", "userID": "anon-7"}, {"type": "buy", "userID": "acct-1"}]);
    let (status, body) = app.post("/api/v1/events", &key, events).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, merged) = app.post("/api/v1/users/anon-7/merge", &key, json!({"into": "acct-1"})).await;
    assert_eq!(status, StatusCode::CREATED, "{merged}");
    assert_eq!((merged["userID"].as_str(), merged["into"].as_str()), (Some("anon-7"), Some("acct-1")));
    assert_eq!((merged["moved"]["events"].as_i64(), merged["moved"]["properties"].as_i64()), (Some(2), Some(2)));
    assert!(merged["undoUntil"].is_string() && merged["created"] == true, "{merged}");
    let kept = app.store.user_by_external_id(app_id, "acct-1").await.unwrap().unwrap();
    assert_eq!(merged["consoleUrl"], format!("/users/{}", kept.id));

    // Asked again: the same merge, nothing done.
    let (status, again) = app.post("/api/v1/users/anon-7/merge", &key, json!({"into": "acct-1"})).await;
    assert_eq!((status, &again["mergeId"], &again["created"]), (StatusCode::OK, &merged["mergeId"], &json!(false)));

    // The old userID names the kept user in every write.
    let (status, body) = app.put("/api/v1/users/anon-7", &key, json!({"email": "ana@example.com"})).await;
    assert_eq!((status, body["userID"].as_str()), (StatusCode::OK, Some("acct-1")), "{body}");
    let (status, body) = app.post("/api/v1/events", &key, json!([{"type": "tap", "userID": "anon-7"}])).await;
    assert_eq!((status, &body["mergedUsers"]), (StatusCode::OK, &json!({"anon-7": "acct-1"})), "{body}");
    let (_, body) = app.post("/api/v1/events", &key, json!([{"type": "tap", "userID": "acct-1"}])).await;
    assert!(body.get("mergedUsers").is_none(), "named directly, nothing to say: {body}");
    let (status, body) = app.post("/api/v1/users/anon-7/messages", &key, json!({"title": "Hi", "body": "Yo"})).await;
    assert_eq!((status, body["userID"].as_str()), (StatusCode::CREATED, Some("acct-1")), "{body}");
    let (status, body) =
        app.put("/api/v1/devices/anon-phone", &key, json!({"userID": "anon-7", "platform": "ios"})).await;
    assert!(status.is_success(), "{status} {body}");
    let (status, body) = app.send(reqwest::Method::PUT, "/api/v1/users/anon-7/segments/VIP", Some(&key), None).await;
    assert_eq!((status, body["userID"].as_str()), (StatusCode::OK, Some("acct-1")), "{body}");
    let segments = app.store.segments_of_user(app_id, kept.id).await.unwrap();
    assert_eq!(segments.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["VIP"], "the kept user joined");
    assert_eq!(app.store.count_events(app_id).await.unwrap(), 5);
    assert!(app.store.user_by_external_id(app_id, "anon-7").await.unwrap().is_none(), "never created again");
    let plan = app.store.properties_of(kept.id).await.unwrap();
    let names: Vec<&str> = plan.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["plan", "source"], "the merged user's extra property moved; the kept plan stayed");

    // Refusals, as JSON errors that write nothing.
    let written = app.store.row_counts().await.unwrap();
    for (path, body, expected) in [
        ("/api/v1/users/ghost/merge", json!({"into": "acct-1"}), StatusCode::NOT_FOUND),
        ("/api/v1/users/acct-1/merge", json!({"into": "ghost"}), StatusCode::NOT_FOUND),
        ("/api/v1/users/acct-1/merge", json!({"into": "anon-7"}), StatusCode::UNPROCESSABLE_ENTITY),
        ("/api/v1/users/acct-1/merge", json!({"into": "acct-1", "why": 1}), StatusCode::UNPROCESSABLE_ENTITY),
        ("/api/v1/users/acct-1/merge", json!({}), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (status, answer) = app.post(path, &key, body.clone()).await;
        assert_eq!(status, expected, "{path} {body}: {answer}");
        assert!(answer["error"].is_string(), "{path}: {answer}");
    }
    assert_eq!(app.store.row_counts().await.unwrap(), written);

    // The undo gives anon-7 back with what the app sent under its userID
    // since: the event, the message, the phone and the segment it joined.
    let merge_id = merged["mergeId"].as_i64().unwrap();
    let restored = app.store.undo_merge(app_id, merge_id, "admin@example.com", app::time::now_ms()).await.unwrap();
    assert_eq!(app.store.count_user_events(restored).await.unwrap(), 3);
    assert_eq!(app.store.count_user_events(kept.id).await.unwrap(), 2);
    let messages = |user| app.store.list_messages(app_id, user, 10);
    assert_eq!((messages(restored).await.unwrap().len(), messages(kept.id).await.unwrap().len()), (1, 0));
    assert_eq!(app.store.device_ids_of_user(restored).await.unwrap().len(), 1, "the phone registered to anon-7");
    assert!(app.store.device_ids_of_user(kept.id).await.unwrap().is_empty());
    let segments = |user| app.store.segments_of_user(app_id, user);
    let names = |list: Vec<app::model::segments::Segment>| list.into_iter().map(|s| s.name).collect::<Vec<_>>();
    assert_eq!(names(segments(restored).await.unwrap()), ["VIP"], "joined through anon-7");
    assert!(segments(kept.id).await.unwrap().is_empty());
});
