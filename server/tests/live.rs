//! The live stream (`GET /api/live/users/{id}`) with a real HTTP client
//! against the real server, on SQLite and PostgreSQL: subscribe, ingest,
//! receive; resume with `Last-Event-ID`; who may watch; and (PostgreSQL)
//! an event ingested on one server process reaching a viewer of another.

mod common;

use std::time::Duration;

use app::store::Store;
use app::store_test;
use common::{EventStream, TestApp};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

/// A waiting limit that only turns a hang into a failure (no timing asserts).
const PATIENCE: Duration = Duration::from_secs(20);

async fn ingest_event(app: &TestApp, key: &str, user: &str, client_id: &str) {
    let body = json!([{"type": "re.notifica.event.application.Open", "userID": user, "id": client_id,
                       "data": {"n": client_id}}]);
    let (status, answer) = app.post("/api/v1/events", key, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

/// A signed-in viewer and the stream URL of the user `external_id`.
async fn watcher(app: &TestApp, app_id: i64, external_id: &str) -> (Client, String) {
    app.new_account("pm@example.com", "viewer").await;
    let viewer = app.browser();
    app.sign_in(&viewer, "pm@example.com").await;
    let user = app.store.user_by_external_id(app_id, external_id).await.unwrap().unwrap();
    (viewer, format!("{}/api/live/users/{}", app.base, user.id))
}

store_test!(a_viewer_sees_ingested_events_live_and_resumes_after_a_drop, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, key) = app.new_app("Shop").await;
    app.put("/api/v1/users/ana", &key, json!({"userName": "Ana"})).await;
    app.put("/api/v1/users/bob", &key, json!({})).await;
    let (viewer, url) = watcher(&app, app_id, "ana").await;

    let mut stream = EventStream::open(&viewer, &url, None).await;
    ingest_event(&app, &key, "bob", "b-1").await; // another user: not on this stream
    ingest_event(&app, &key, "ana", "a-1").await;
    let first = stream.next().await;
    assert_eq!(first.event, "activity");
    assert_eq!(first.data["data"], r#"{"n":"a-1"}"#, "{first:?}");
    assert_eq!(first.data["event_type"], "re.notifica.event.application.Open");
    assert_eq!(first.id, Some(first.data["id"].to_string()), "the SSE id is the event's id");

    // Drop the stream; three events happen meanwhile.
    drop(stream);
    for n in 2..=4 {
        ingest_event(&app, &key, "ana", &format!("a-{n}")).await;
    }
    let mut resumed = EventStream::open(&viewer, &url, first.id.as_deref()).await;
    let mut replayed = Vec::new();
    for _ in 0..3 {
        replayed.push(resumed.next().await.data["data"].as_str().unwrap().to_string());
    }
    assert_eq!(replayed, [r#"{"n":"a-2"}"#, r#"{"n":"a-3"}"#, r#"{"n":"a-4"}"#], "exactly the missed ones, in order");
    ingest_event(&app, &key, "ana", "a-5").await;
    assert_eq!(resumed.next().await.data["data"], r#"{"n":"a-5"}"#, "then live ones");
    // A resent event (same client id) is a duplicate, not a new live event.
    ingest_event(&app, &key, "ana", "a-5").await;
    resumed.expect_quiet(Duration::from_millis(500)).await;

    // `?after=` (what the page sends on its first connect) resumes the same way.
    let after = format!("{url}?after={}", first.data["id"]);
    let mut from_page = EventStream::open(&viewer, &after, None).await;
    assert_eq!(from_page.next().await.data["data"], r#"{"n":"a-2"}"#);
});

store_test!(only_a_session_of_the_users_app_may_watch, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, key) = app.new_app("Shop").await;
    app.put("/api/v1/users/ana", &key, json!({})).await;
    let (viewer, url) = watcher(&app, app_id, "ana").await;

    let anonymous = app.browser().get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let body: Value = anonymous.json().await.unwrap();
    assert!(body["error"].is_string(), "{body}");

    // A user of another app is not found from this session's app.
    let (other_id, other_key) = app.new_app("Other").await;
    app.put("/api/v1/users/zed", &other_key, json!({})).await;
    let zed = app.store.user_by_external_id(other_id, "zed").await.unwrap().unwrap();
    let foreign = viewer.get(format!("{}/api/live/users/{}", app.base, zed.id)).send().await.unwrap();
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    let unknown = viewer.get(format!("{}/api/live/users/999999", app.base)).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let watching = viewer.get(&url).send().await.unwrap();
    assert_eq!(watching.status(), StatusCode::OK, "a viewer may watch");
});

store_test!(a_new_position_reaches_the_users_stream_without_an_id, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, key) = app.new_app("Shop").await;
    app.put("/api/v1/users/ana", &key, json!({})).await;
    app.put("/api/v1/users/bob", &key, json!({})).await;
    let device = json!({"userID": "ana", "platform": "iOS", "locationServicesAuthStatus": "always"});
    app.put("/api/v1/devices/phone", &key, device).await;
    app.put("/api/v1/devices/bobs", &key, json!({"userID": "bob", "platform": "Android"})).await;
    let (viewer, url) = watcher(&app, app_id, "ana").await;
    let mut stream = EventStream::open(&viewer, &url, None).await;

    let fix = |lat: f64, time: &str| json!({"latitude": lat, "longitude": 4.9, "accuracy": 12.0, "time": time});
    let (status, answer) = app.post("/api/v1/devices/bobs/locations", &key, fix(40.0, "2026-01-01T00:00:00Z")).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}"); // another user: not on this stream
    let (status, answer) = app.post("/api/v1/devices/phone/locations", &key, fix(52.5, "2026-01-01T00:00:10Z")).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let moved = stream.next().await;
    assert_eq!(moved.event, "moved", "{moved:?}");
    assert_eq!(moved.id, None, "a resume stays keyed on event ids");
    assert_eq!(moved.data["fix"]["latitude"], 52.5);
    assert_eq!(moved.data["fix"]["accuracy"], 12.0);
    let phone = app.store.device_id_by_external_id(app_id, "phone").await.unwrap().unwrap();
    assert_eq!(moved.data["device_id"], phone);

    // An older point arriving late does not move the device: nothing is sent.
    let (status, _) = app.post("/api/v1/devices/phone/locations", &key, fix(50.0, "2026-01-01T00:00:05Z")).await;
    assert_eq!(status, StatusCode::CREATED);
    stream.expect_quiet(Duration::from_millis(500)).await;
    // Events and moves share the stream.
    ingest_event(&app, &key, "ana", "a-1").await;
    assert_eq!(stream.next().await.event, "activity");
});

store_test!(message_changes_reach_the_users_stream, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, key) = app.new_app("Shop").await;
    app.put("/api/v1/users/ana", &key, json!({})).await;
    app.put("/api/v1/users/bob", &key, json!({})).await;
    app.put("/api/v1/devices/phone", &key, json!({"userID": "ana", "platform": "iOS"})).await;
    let (viewer, url) = watcher(&app, app_id, "ana").await;
    let mut stream = EventStream::open(&viewer, &url, None).await;

    let (status, _) = app.post("/api/v1/users/bob/messages", &key, json!({"title": "T", "body": "B"})).await;
    assert_eq!(status, StatusCode::CREATED); // another user: not on this stream
    let (status, sent) = app.post("/api/v1/users/ana/messages", &key, json!({"title": "T", "body": "B"})).await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let changed = stream.next().await;
    assert_eq!((changed.event.as_str(), changed.id.clone()), ("messages", None), "{changed:?}");
    let ana = app.store.user_by_external_id(app_id, "ana").await.unwrap().unwrap();
    assert_eq!(changed.data["user_id"], ana.id);

    // Reading the inbox delivers it: the stream is told again.
    let response =
        app.browser().get(format!("{}/api/v1/devices/phone/inbox", app.base)).bearer_auth(&key).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(stream.next().await.event, "messages");
    // A second read changes nothing and says nothing.
    let response =
        app.browser().get(format!("{}/api/v1/devices/phone/inbox", app.base)).bearer_auth(&key).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    stream.expect_quiet(Duration::from_millis(500)).await;
});

store_test!(an_account_holds_a_few_streams_and_a_bounded_replay, |store: Store| async move {
    use app::live::limits::{REPLAYS_PER_MINUTE, STREAMS_PER_PROFILE};
    let app = TestApp::start(store).await;
    let (app_id, key) = app.new_app("Shop").await;
    app.put("/api/v1/users/ana", &key, json!({})).await;
    let (viewer, url) = watcher(&app, app_id, "ana").await;

    // A few streams of one profile, then 429 with a JSON reason.
    let mut open = Vec::new();
    for _ in 0..STREAMS_PER_PROFILE {
        open.push(EventStream::open(&viewer, &url, None).await);
    }
    let refused = viewer.get(&url).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    let reason: Value = refused.json().await.unwrap();
    assert!(reason["error"].as_str().is_some_and(|e| e.contains("live streams")), "{reason}");
    // Another account is not affected.
    app.new_account("other@example.com", "viewer").await;
    let other = app.browser();
    app.sign_in(&other, "other@example.com").await;
    drop(EventStream::open(&other, &url, None).await);
    // A closed stream gives its slot back (once the server sees it close).
    drop(open.pop());
    let reopened = tokio::time::timeout(PATIENCE, async {
        loop {
            let response = viewer.get(&url).send().await.unwrap();
            if response.status() == StatusCode::OK {
                return response;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("a slot is given back when a stream closes");
    drop(reopened);
    drop(open);

    // Replays are budgeted per account: reconnecting from the start again
    // and again replays the budget's worth, then is refused before reading.
    const HISTORY: usize = 1_200;
    for batch in 0..HISTORY / 600 {
        let events: Vec<Value> =
            (0..600).map(|n| json!({"type": "tap", "userID": "ana", "id": format!("e{batch}-{n}")})).collect();
        let (status, answer) = app.post("/api/v1/events", &key, Value::Array(events)).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let (mut replayed, mut full_replays, mut attempts) = (0, 0, 0);
    let refusal = loop {
        let response = viewer.get(&url).header("Last-Event-ID", "0").send().await.unwrap();
        if response.status() != StatusCode::OK {
            break response;
        }
        let mut stream = EventStream::of(response);
        let mut got = 0;
        while got < HISTORY {
            match tokio::time::timeout(Duration::from_secs(2), stream.read_until_end()).await {
                Ok(Some(_)) => got += 1,
                // Closed (budget spent mid-replay) or quiet: this one is done.
                _ => break,
            }
        }
        replayed += got;
        full_replays += usize::from(got == HISTORY);
        attempts += 1;
        assert!(attempts < 100, "never refused: {replayed} events in {full_replays} full replays");
    };
    assert_eq!(refusal.status(), StatusCode::TOO_MANY_REQUESTS);
    let reason: Value = refusal.json().await.unwrap();
    assert!(reason["error"].as_str().is_some_and(|e| e.contains("reconnects")), "{reason}");
    let budget = REPLAYS_PER_MINUTE as usize;
    // Each replay is charged by the page (500) before it is read.
    let charged = HISTORY.div_ceil(500) * 500;
    assert!(full_replays >= budget / charged - 1, "the budget's worth is replayed: {full_replays} full replays");
    assert!(replayed <= budget, "never past the budget: {replayed} events");
    // Another account still replays.
    let mut fresh = EventStream::open(&other, &url, Some("0")).await;
    assert_eq!(fresh.next().await.event, "activity");
});
