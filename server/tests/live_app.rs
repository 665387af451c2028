//! The Live page's stream of the whole app (`GET /api/live/app`) with a real
//! HTTP client against the real server, on SQLite and PostgreSQL: rows with
//! whose they are, in order; never another app's or a deactivated user's;
//! the filters; sampling with exact counts; resuming with `Last-Event-ID`
//! (each event once while a replay catches up); who may watch and how many streams; (PostgreSQL) an event ingested on one
//! instance reaching a Live page on another. And the page's first render
//! (`/api/live/overview`).

mod common;

use app::live::limits::STREAMS_PER_PROFILE;
use app::store::testing::TestDatabase;
use app::store::Store;
use app::store_test;
use common::{EventStream, Sse, TestApp, SSE_PATIENCE};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

/// Rows a second before the stream samples (`server::live::app::READABLE_PER_SEC`).
const READABLE_PER_SEC: u64 = 20;

fn url(app: &TestApp, query: &str) -> String {
    format!("{}/api/live/app{query}", app.base)
}

/// A signed-in viewer (of the first app, unless it switches).
async fn viewer(app: &TestApp, email: &str) -> Client {
    app.new_account(email, "viewer").await;
    let client = app.browser();
    app.sign_in(&client, email).await;
    client
}

/// Registers a user or a device (`PUT` of the ingest API).
async fn register(app: &TestApp, key: &str, path: &str, body: Value) {
    let (status, answer) = app.put(path, key, body).await;
    assert!(status.is_success(), "PUT {path}: {status} {answer}");
}

/// An event of `user`, its client id and `data.n` both `n`.
fn event(kind: &str, user: &str, n: &str) -> Value {
    json!({"type": kind, "userID": user, "id": n, "data": {"n": n}})
}

/// An event of `device`'s user, `data` holding `n` and `item`.
fn on_device(kind: &str, device: &str, n: &str, item: &str) -> Value {
    json!({"type": kind, "deviceID": device, "id": n, "data": {"n": n, "item": item}})
}

async fn ingest(app: &TestApp, key: &str, events: Value) {
    let count = events.as_array().map_or(0, Vec::len);
    let (status, answer) = app.post("/api/v1/events", key, events).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["accepted"], count, "{answer}");
}

/// The next SSE event named `kind`, the others (counts, rates, moves) skipped.
async fn next_of(stream: &mut EventStream, kind: &str) -> Sse {
    let found = tokio::time::timeout(SSE_PATIENCE, async {
        loop {
            let sse = stream.read().await;
            if sse.event == kind {
                return sse;
            }
        }
    });
    found.await.unwrap_or_else(|_| panic!("no `{kind}` within {SSE_PATIENCE:?}"))
}

async fn next_row(stream: &mut EventStream) -> Sse {
    next_of(stream, "event").await
}

/// A row's `data.n`.
fn marker(row: &Sse) -> String {
    let data: Value = serde_json::from_str(row.data["event"]["data"].as_str().expect("data")).unwrap();
    data["n"].as_str().expect("n").to_string()
}

/// The markers of the rows up to and including `last`.
async fn rows_until(stream: &mut EventStream, last: &str) -> Vec<String> {
    let mut rows = Vec::new();
    while rows.last().is_none_or(|n| n != last) {
        rows.push(marker(&next_row(stream).await));
    }
    rows
}

store_test!(a_viewer_sees_the_apps_events_in_order_with_whose_they_are, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (_, key) = app.new_app("Shop").await;
    register(&app, &key, "/api/v1/users/ana", json!({"userName": "Ana"})).await;
    register(&app, &key, "/api/v1/users/bob", json!({})).await;
    register(&app, &key, "/api/v1/devices/phone", json!({"userID": "ana", "platform": "iOS"})).await;
    let viewer = viewer(&app, "pm@example.com").await;
    let mut stream = EventStream::open(&viewer, &url(&app, ""), None).await;
    let counts = stream.next().await;
    assert_eq!(counts.event, "overview", "the counts come first: {counts:?}");
    assert!(counts.data["active"]["users"].is_array() && counts.data["top"].is_array(), "{counts:?}");

    ingest(&app, &key, json!([on_device("purchase", "phone", "a-1", "ring"), event("open", "bob", "b-1")])).await;
    ingest(&app, &key, json!([event("tap", "ana", "a-2")])).await;
    let expected = [
        ("a-1", "purchase", "ana", Some("Ana"), Some("iOS")),
        ("b-1", "open", "bob", None, None),
        ("a-2", "tap", "ana", Some("Ana"), None),
    ];
    // Rows and the seconds' rates come interleaved (a second may end
    // between two batches): both are read as they come.
    let (mut rows, mut matched, mut shown) = (Vec::new(), 0, 0);
    while rows.len() < expected.len() || matched < 3 {
        let sse = tokio::time::timeout(SSE_PATIENCE, stream.read())
            .await
            .unwrap_or_else(|_| panic!("{} rows and {matched} counted within {SSE_PATIENCE:?}", rows.len()));
        match sse.event.as_str() {
            "event" => rows.push(sse),
            "rate" => {
                // The second's figures follow its rows: a readable rate is sent whole.
                matched += sse.data["matched"].as_u64().expect("matched");
                shown += sse.data["shown"].as_u64().expect("shown");
                assert_eq!(sse.data["every"], 1, "{sse:?}");
            }
            _ => {}
        }
    }
    assert_eq!((matched, shown), (3, 3));
    let mut last_id = 0;
    for ((n, kind, user, name, platform), row) in expected.into_iter().zip(rows) {
        assert_eq!(marker(&row), n, "in order: {row:?}");
        assert_eq!(row.data["event"]["event_type"], kind, "{row:?}");
        assert_eq!(row.data["user_external_id"], user, "{row:?}");
        assert_eq!(row.data["user_name"].as_str().filter(|s| !s.is_empty()), name, "{row:?}");
        assert_eq!(row.data["platform"].as_str(), platform, "{row:?}");
        let id = row.data["event"]["id"].as_i64().expect("an event id");
        assert_eq!(row.id, Some(id.to_string()), "the SSE id is the event's id");
        assert!(id > last_id, "ids ascend: {id} after {last_id}");
        last_id = id;
    }
});

store_test!(the_counts_are_sent_again_as_users_become_active, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (_, key) = app.new_app("Shop").await;
    let viewer = viewer(&app, "pm@example.com").await;
    let mut stream = EventStream::open(&viewer, &url(&app, ""), None).await;
    let first = next_of(&mut stream, "overview").await;
    assert_eq!(first.data["active"]["users"], json!([0, 0, 0]), "{first:?}");
    register(&app, &key, "/api/v1/users/ana", json!({})).await;
    register(&app, &key, "/api/v1/users/bob", json!({})).await;
    ingest(&app, &key, json!([event("open", "ana", "a-1"), event("open", "bob", "b-1")])).await;
    // The fan-out takes each watched app's counts every few seconds, once
    // for all its pages.
    let found = tokio::time::timeout(SSE_PATIENCE, async {
        loop {
            let counts = next_of(&mut stream, "overview").await;
            if counts.data["active"]["users"] == json!([2, 2, 2]) {
                return counts;
            }
        }
    });
    let counts = found.await.expect("the counts of the two new active users");
    assert_eq!(counts.data["top"][0]["event_type"], "open", "{counts:?}");
});

store_test!(the_overview_answers_a_viewer, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (_, key) = app.new_app("Shop").await;
    register(&app, &key, "/api/v1/users/ana", json!({})).await;
    ingest(&app, &key, json!([event("tap", "ana", "a-1")])).await;
    let viewer = viewer(&app, "pm@example.com").await;
    // No filter at all (the page's first load, and its refetch when the filters are cleared).
    let (status, body) = app.server_fn(&viewer, "/api/live/overview", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let overview = &body[0];
    for field in ["active", "top", "events", "positions", "after"] {
        assert!(overview.get(field).is_some(), "no {field}: {body}");
    }
    assert_eq!(overview["events"][0]["event"]["data"], r#"{"n":"a-1"}"#, "{body}");
    assert_eq!(overview["after"], overview["events"][0]["event"]["id"], "the stream goes on after the newest");
});

store_test!(another_apps_and_deactivated_users_events_never_arrive, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (shop, key) = app.new_app("Shop").await;
    let (other, other_key) = app.new_app("Other").await;
    register(&app, &key, "/api/v1/users/ana", json!({})).await;
    register(&app, &key, "/api/v1/users/bob", json!({})).await;
    register(&app, &other_key, "/api/v1/users/zed", json!({})).await;
    let viewer = viewer(&app, "pm@example.com").await;
    // The other app has a Live page open too: its events reach this instance's fan-out.
    let watcher = self::viewer(&app, "other@example.com").await;
    let (status, body) = app.server_fn(&watcher, "/api/apps/switch", &[("app_id", &other.to_string())]).await;
    assert!(status.is_success(), "{status} {body}");
    app.new_account("admin@example.com", "admin").await;
    let admin = app.browser();
    app.sign_in(&admin, "admin@example.com").await;
    let bob = app.store.user_by_external_id(shop, "bob").await.unwrap().unwrap();
    let form = [("user_id", bob.id.to_string()), ("active", "false".into())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, body) = app.server_fn(&admin, "/api/profile/set-active", &form).await;
    assert!(status.is_success(), "deactivate: {status} {body}");

    let mut shop_stream = EventStream::open(&viewer, &url(&app, ""), None).await;
    let mut other_stream = EventStream::open(&watcher, &url(&app, ""), None).await;
    ingest(&app, &other_key, json!([event("tap", "zed", "z-1")])).await;
    ingest(&app, &key, json!([event("tap", "bob", "b-1")])).await;
    ingest(&app, &key, json!([event("tap", "ana", "a-1")])).await;
    assert_eq!(marker(&next_row(&mut other_stream).await), "z-1", "the other app's stream has its event");
    // Committed earlier, either would have come first.
    assert_eq!(marker(&next_row(&mut shop_stream).await), "a-1", "neither z-1 nor the deactivated b-1");
    // Nor does a replay from the start send them.
    let mut replay = EventStream::open(&viewer, &url(&app, ""), Some("0")).await;
    ingest(&app, &key, json!([event("tap", "ana", "a-2")])).await;
    assert_eq!(rows_until(&mut replay, "a-2").await, ["a-1", "a-2"]);
});

store_test!(each_filter_lets_only_matching_events_through, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (_, key) = app.new_app("Shop").await;
    for (user, device, platform) in [("ana", "phone", "iOS"), ("bob", "tab", "Android"), ("cat", "cats", "iOS")] {
        register(&app, &key, &format!("/api/v1/users/{user}"), json!({})).await;
        register(&app, &key, &format!("/api/v1/devices/{device}"), json!({"userID": user, "platform": platform})).await;
    }
    let (status, body) = app.send(Method::PUT, "/api/v1/users/ana/segments/VIP", Some(&key), None).await;
    assert!(status.is_success(), "{status} {body}");
    let vip = body["segment"]["id"].as_i64().expect("segment id");
    let viewer = viewer(&app, "pm@example.com").await;
    let in_vip = format!("?segment={vip}");
    let cases = [
        ("?type=signup&type=purchase", vec!["e1", "e3", "e4", "e5", "e6"]),
        ("?platform=iOS", vec!["e1", "e2", "e4", "e5", "e6"]),
        ("?text=gOLd", vec!["e1", "e2", "e3", "e5", "e6"]),
        (in_vip.as_str(), vec!["e1", "e2", "e4", "e6"]),
    ];
    let mut streams = Vec::new();
    for (query, _) in &cases {
        streams.push(EventStream::open(&viewer, &url(&app, query), None).await);
    }
    let events = json!([
        on_device("purchase", "phone", "e1", "Gold ring"), // all filters
        on_device("open", "phone", "e2", "gold"),          // not the types
        on_device("purchase", "tab", "e3", "gold"),        // not iOS, not VIP
        on_device("purchase", "phone", "e4", "silver"),    // no gold
        on_device("purchase", "cats", "e5", "GOLD"),       // not VIP
        on_device("purchase", "phone", "e6", "gold"),      // all filters: the last
    ]);
    ingest(&app, &key, events).await;
    for ((query, expected), stream) in cases.iter().zip(&mut streams) {
        assert_eq!(&rows_until(stream, "e6").await, expected, "{query}");
    }
});

store_test!(a_flood_is_sampled_and_counted_exactly, |store: Store| async move {
    const FLOOD: u64 = 300;
    let app = TestApp::start(store).await;
    let (_, key) = app.new_app("Shop").await;
    register(&app, &key, "/api/v1/users/ana", json!({})).await;
    let viewer = viewer(&app, "pm@example.com").await;
    let mut stream = EventStream::open(&viewer, &url(&app, ""), None).await;
    for batch in 0..2 {
        let events: Vec<Value> = (0..FLOOD / 2).map(|n| event("tap", "ana", &format!("f-{batch}-{n}"))).collect();
        ingest(&app, &key, Value::Array(events)).await;
    }
    let (mut matched, mut shown, mut rows, mut sampled) = (0, 0, 0, false);
    let (mut in_second, mut last_id) = (0, 0);
    while matched < FLOOD {
        let sse = tokio::time::timeout(SSE_PATIENCE, stream.read()).await.unwrap_or_else(|_| {
            panic!("{matched} of {FLOOD} events counted within {SSE_PATIENCE:?}");
        });
        match sse.event.as_str() {
            "event" => {
                let id = sse.data["event"]["id"].as_i64().unwrap();
                assert!(id > last_id, "rows in order, each once: {id} after {last_id}");
                (last_id, in_second, rows) = (id, in_second + 1, rows + 1);
            }
            "rate" => {
                let (m, s) = (sse.data["matched"].as_u64().unwrap(), sse.data["shown"].as_u64().unwrap());
                assert_eq!(s, in_second, "`shown` is the rows sent that second: {sse:?}");
                assert!(s <= READABLE_PER_SEC && s <= m, "never more rows than a person reads: {sse:?}");
                sampled |= s < m;
                (matched, shown, in_second) = (matched + m, shown + s, 0);
            }
            _ => {}
        }
    }
    assert_eq!(matched, FLOOD, "every matching event is counted once");
    assert_eq!(rows, shown, "every row sent is counted");
    assert!(sampled && rows < FLOOD, "a flood is sampled: {rows} rows of {FLOOD}");
});

store_test!(a_reconnect_replays_exactly_the_missed_matching_events, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (_, key) = app.new_app("Shop").await;
    let (_, other_key) = app.new_app("Other").await;
    register(&app, &key, "/api/v1/users/ana", json!({})).await;
    register(&app, &key, "/api/v1/users/bob", json!({})).await;
    register(&app, &other_key, "/api/v1/users/zed", json!({})).await;
    let viewer = viewer(&app, "pm@example.com").await;
    let purchases = url(&app, "?type=purchase");

    let mut stream = EventStream::open(&viewer, &purchases, None).await;
    ingest(&app, &key, json!([event("purchase", "ana", "p-1")])).await;
    let first = next_row(&mut stream).await;
    assert_eq!(marker(&first), "p-1");
    drop(stream);
    // Missed meanwhile: two purchases, an event the filter leaves out, another app's.
    ingest(&app, &other_key, json!([event("purchase", "zed", "z-1")])).await;
    ingest(&app, &key, json!([event("open", "ana", "o-1"), event("purchase", "ana", "p-2")])).await;
    ingest(&app, &key, json!([event("purchase", "bob", "p-3")])).await;

    let mut resumed = EventStream::open(&viewer, &purchases, first.id.as_deref()).await;
    ingest(&app, &key, json!([event("purchase", "ana", "p-4")])).await;
    assert_eq!(rows_until(&mut resumed, "p-4").await, ["p-2", "p-3", "p-4"], "the missed ones, then live ones");
    // `?after=` (the page's first connect) resumes the same way.
    let after = format!("{purchases}&after={}", first.data["event"]["id"]);
    let mut from_page = EventStream::open(&viewer, &after, None).await;
    assert_eq!(marker(&next_row(&mut from_page).await), "p-2");
});

store_test!(an_event_committed_while_a_stream_catches_up_is_sent_once, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (_, key) = app.new_app("Shop").await;
    register(&app, &key, "/api/v1/users/ana", json!({})).await;
    let viewer = viewer(&app, "pm@example.com").await;
    ingest(&app, &key, json!([event("tap", "ana", "seen")])).await;
    let seen = app.store.last_event_id().await.unwrap().to_string();
    // A gap past the stream's queue and the socket's buffers: its replay
    // waits for the reader, while new events are committed and broadcast.
    let mut expected = Vec::new();
    for batch in 0..2 {
        let names: Vec<String> = (0..750).map(|n| format!("g-{batch}-{n:03}")).collect();
        ingest(&app, &key, names.iter().map(|n| event("tap", "ana", n)).collect()).await;
        expected.extend(names);
    }
    let mut stream = EventStream::open(&viewer, &url(&app, ""), Some(&seen)).await;
    for n in ["c-1", "c-2", "c-3"] {
        ingest(&app, &key, json!([event("tap", "ana", n)])).await;
        expected.push(n.to_string());
    }
    let rows = rows_until(&mut stream, "c-3").await;
    assert_eq!(rows.len(), expected.len(), "each event once, replayed or live");
    assert_eq!(rows, expected);
});

store_test!(anonymous_is_refused_and_an_account_holds_a_few_app_streams, |store: Store| async move {
    let app = TestApp::start(store).await;
    app.new_app("Shop").await;
    let viewer = viewer(&app, "pm@example.com").await;

    let anonymous = app.browser().get(url(&app, "")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let body: Value = anonymous.json().await.unwrap();
    assert!(body["error"].is_string(), "{body}");

    let mut open = Vec::new();
    for n in 0..STREAMS_PER_PROFILE {
        // Other filters are the same page: they count together.
        open.push(EventStream::open(&viewer, &url(&app, &format!("?text=t{n}")), None).await);
    }
    let refused = viewer.get(url(&app, "")).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().expect("seconds");
    assert!(retry >= 1, "Retry-After: {retry}");
    let reason: Value = refused.json().await.unwrap();
    assert!(reason["error"].as_str().is_some_and(|e| e.contains("live streams")), "{reason}");
    // Another account is not affected.
    let other = self::viewer(&app, "other@example.com").await;
    drop(EventStream::open(&other, &url(&app, ""), None).await);
    // A closed stream gives its slot back (once the server sees it close).
    drop(open.pop());
    let reopened = tokio::time::timeout(SSE_PATIENCE, async {
        loop {
            let response = viewer.get(url(&app, "")).send().await.unwrap();
            if response.status() == StatusCode::OK {
                return response;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    });
    reopened.await.expect("a slot is given back when a stream closes");
});

/// Past one machine: two server processes on one PostgreSQL database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_ingested_on_one_instance_reaches_a_live_page_on_another() {
    let Some(database) = TestDatabase::create().await else { return };
    let store = Store::connect(&database.url).await.expect("migrate the new database");
    let (a, b) =
        (common::instances::start(&database.url, &[]).await, common::instances::start(&database.url, &[]).await);
    let on = |instance: &common::instances::Instance| TestApp {
        base: instance.base.clone(),
        client: common::client(),
        store: store.clone(),
    };
    let (on_a, on_b) = (on(&a), on(&b));
    let (_, key) = on_a.new_app("Shop").await;
    register(&on_a, &key, "/api/v1/users/ana", json!({"userName": "Ana"})).await;
    let viewer = viewer(&on_b, "pm@example.com").await;
    let mut stream = EventStream::open(&viewer, &url(&on_b, ""), None).await;

    ingest(&on_a, &key, json!([event("purchase", "ana", "a-1")])).await;
    let row = next_row(&mut stream).await;
    assert_eq!((marker(&row).as_str(), row.data["user_name"].as_str()), ("a-1", Some("Ana")), "{row:?}");

    drop((on_a, on_b, a, b));
    store.close().await;
    database.finish().await;
}
