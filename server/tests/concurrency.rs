//! The ingest API under concurrent load, on both databases: several clients
//! at once on the same users and devices get no error, nothing is lost or
//! stored twice, and last-seen times end where the newest event puts them.

mod common;

use std::collections::HashMap;

use app::store::{Store, SEEN_PRECISION_MS};
use app::store_test;
use chrono::{DateTime, SecondsFormat};
use common::TestApp;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tokio::task::JoinSet;

const USERS: usize = 12;
const CLIENTS: usize = 8;
const BATCHES: usize = 20;
const EVENTS_PER_BATCH: usize = 50;

/// One client's view of the server: plain data, so it can move into a task.
#[derive(Clone)]
struct Sdk {
    base: String,
    key: String,
    client: Client,
}

impl Sdk {
    async fn send(&self, method: reqwest::Method, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await
            .expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

fn rfc3339(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).unwrap().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Batch `batch` of client `client`: events for overlapping users and
/// devices (device `dN` belongs to user `uN`), by userID, by deviceID or both.
/// Returns the body and, per event, (attributed user index, time).
fn batch(client: usize, batch: usize, base: i64) -> (Value, Vec<(usize, i64)>) {
    let mut events = Vec::new();
    let mut owners = Vec::new();
    for n in 0..EVENTS_PER_BATCH {
        let user = (client * 7 + batch * 5 + n * 3) % USERS;
        // Times interleave across clients, so batches race to move last-seen.
        let at = base + ((n * BATCHES + batch) * CLIENTS + client) as i64 * 1000;
        let mut event = json!({"id": format!("c{client}-b{batch}-e{n}"), "type": "custom.load", "time": rfc3339(at)});
        match n % 3 {
            0 => event["userID"] = json!(format!("u{user}")),
            1 => event["deviceID"] = json!(format!("d{user}")),
            _ => {
                event["userID"] = json!(format!("u{user}"));
                event["deviceID"] = json!(format!("d{user}"));
            }
        }
        events.push(event);
        owners.push((user, at));
    }
    (Value::Array(events), owners)
}

store_test!(concurrent_event_batches_on_shared_users_all_succeed, multi_thread, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, key) = app.new_app("Load").await;
    for i in 0..USERS {
        assert_eq!(app.put(&format!("/api/v1/users/u{i}"), &key, json!({})).await.0, StatusCode::OK);
        let device = json!({"userID": format!("u{i}"), "platform": "iOS"});
        assert_eq!(app.put(&format!("/api/v1/devices/d{i}"), &key, device).await.0, StatusCode::OK);
    }
    let sdk = Sdk { base: app.base.clone(), key, client: common::client() };
    let base = chrono::Utc::now().timestamp_millis() - 3_600_000;

    let mut newest = [0i64; USERS];
    let mut clients = JoinSet::new();
    for client in 0..CLIENTS {
        let bodies: Vec<Value> = (0..BATCHES).map(|b| batch(client, b, base).0).collect();
        for (user, at) in (0..BATCHES).flat_map(|b| batch(client, b, base).1) {
            newest[user] = newest[user].max(at);
        }
        let sdk = sdk.clone();
        clients.spawn(async move {
            let mut answers = Vec::new();
            for body in &bodies {
                answers.push(sdk.send(reqwest::Method::POST, "/api/v1/events", body).await);
            }
            answers
        });
    }
    // A client that lost its answers sends some batches again, at the same time.
    let resent: Vec<Value> = (0..BATCHES).step_by(4).map(|b| batch(0, b, base).0).collect();
    let resender = sdk.clone();
    clients.spawn(async move {
        let mut answers = Vec::new();
        for body in &resent {
            answers.push(resender.send(reqwest::Method::POST, "/api/v1/events", body).await);
        }
        answers
    });

    let mut accepted = 0;
    let mut duplicates = 0;
    while let Some(answers) = clients.join_next().await {
        for (status, body) in answers.unwrap() {
            assert_eq!(status, StatusCode::OK, "{body}");
            accepted += body["accepted"].as_u64().unwrap();
            duplicates += body["duplicates"].as_u64().unwrap();
        }
    }
    let distinct = (CLIENTS * BATCHES * EVENTS_PER_BATCH) as u64;
    assert_eq!(app.store.count_events(app_id).await.unwrap() as u64, distinct);
    assert_eq!(accepted, distinct, "each distinct event accepted once");
    assert_eq!(duplicates, (BATCHES.div_ceil(4) * EVENTS_PER_BATCH) as u64, "every resent event is a duplicate");
    for (i, newest) in newest.iter().enumerate() {
        let user = app.store.user_by_external_id(app_id, &format!("u{i}")).await.unwrap().unwrap();
        // Kept to the minute (`SEEN_PRECISION_MS`).
        let minute = newest - newest.rem_euclid(SEEN_PRECISION_MS);
        assert_eq!(user.last_seen_at, Some(minute), "last seen of u{i}");
    }
});

store_test!(concurrent_puts_of_the_same_users_and_devices_all_succeed, multi_thread, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, key) = app.new_app("Load").await;
    let sdk = Sdk { base: app.base.clone(), key, client: common::client() };
    // The users exist before their devices are linked to them.
    for i in 0..4 {
        assert_eq!(sdk.send(reqwest::Method::PUT, &format!("/api/v1/users/u{i}"), &json!({})).await.0, StatusCode::OK);
    }
    let mut clients = JoinSet::new();
    for client in 0..CLIENTS {
        let sdk = sdk.clone();
        clients.spawn(async move {
            let mut answers = Vec::new();
            for round in 0..10 {
                let i = (client + round) % 4;
                let name = json!({"userName": format!("Client {client}"), "email": format!("c{client}@example.com")});
                answers.push(sdk.send(reqwest::Method::PUT, &format!("/api/v1/users/u{i}"), &name).await);
                let device = json!({"userID": format!("u{}", (i + client) % 4), "platform": "Android",
                                    "appVersion": format!("{client}.{round}")});
                answers.push(sdk.send(reqwest::Method::PUT, &format!("/api/v1/devices/d{i}"), &device).await);
            }
            answers
        });
    }
    while let Some(answers) = clients.join_next().await {
        for (status, body) in answers.unwrap() {
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    }
    assert_eq!(app.store.count_active_users(app_id).await.unwrap(), 4);
    let mut names: HashMap<String, String> = HashMap::new();
    for i in 0..4 {
        let user = app.store.user_by_external_id(app_id, &format!("u{i}")).await.unwrap().unwrap();
        let name = user.user_name.expect("a writer's name");
        // Last writer wins, whole: name and email come from the same request.
        assert_eq!(user.email.as_deref(), Some(format!("c{}@example.com", &name["Client ".len()..]).as_str()));
        names.insert(user.external_id, name);
        assert!(app.store.device_id_by_external_id(app_id, &format!("d{i}")).await.unwrap().is_some());
    }
    assert_eq!(names.len(), 4);
});
