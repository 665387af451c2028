//! Past one machine: two real server processes on one PostgreSQL database.
//! An event ingested through one reaches a live stream opened on the other
//! (LISTEN/NOTIFY carries the ids; each instance reads the rows).

mod common;

use std::time::Duration;

use app::auth::{api_key, password};
use app::store::testing::TestDatabase;
use app::store::Store;
use common::instances::start;
use reqwest::{Client, StatusCode};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_ingested_on_one_instance_reaches_a_viewer_of_another() {
    let Some(database) = TestDatabase::create().await else { return };
    let store = Store::connect(&database.url).await.expect("migrate the new database");
    let key = api_key::generate();
    let app_id = store.create_app("Shop", &api_key::hash(&key), 1).await.unwrap().id;
    let hash = password::hash(common::PASSWORD.into()).await.unwrap();
    store.create_admin("pm@example.com", &hash, "viewer", 1).await.unwrap();

    let (a, b) = (start(&database.url, &[]).await, start(&database.url, &[]).await);
    let sdk = common::client();
    let put = sdk.put(format!("{}/api/v1/users/ana", a.base)).bearer_auth(&key).json(&json!({})).send().await;
    assert_eq!(put.unwrap().status(), StatusCode::OK);
    let ana = store.user_by_external_id(app_id, "ana").await.unwrap().unwrap();

    // A viewer signed in on B watches Ana.
    let viewer = Client::builder().cookie_store(true).build().unwrap();
    let login = viewer
        .post(format!("{}/api/auth/login", b.base))
        .header("Origin", &b.base)
        .form(&[("email", "pm@example.com"), ("password", common::PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(login.status().is_success() || login.status().is_redirection(), "{}", login.status());
    let mut stream = viewer.get(format!("{}/api/live/users/{}", b.base, ana.id)).send().await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);

    // Ingested on A.
    let event = json!([{"type": "purchase", "userID": "ana", "id": "e-1", "data": {"sku": "42"}}]);
    let posted = sdk.post(format!("{}/api/v1/events", a.base)).bearer_auth(&key).json(&event).send().await.unwrap();
    assert_eq!(posted.status(), StatusCode::OK);

    let mut received = String::new();
    let arrived = tokio::time::timeout(Duration::from_secs(20), async {
        while !received.contains("\n\n") || !received.contains("purchase") {
            let chunk = stream.chunk().await.expect("read").expect("stream open");
            received.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    assert!(arrived.is_ok(), "no event on B within the patience limit; got {received:?}");
    assert!(received.contains("event: activity"), "{received}");
    assert!(received.contains(r#"\"sku\":\"42\""#), "{received}");

    drop((a, b));
    store.close().await;
    database.finish().await;
}

/// Signs a new cookie-keeping client in on `base`.
async fn signed_in(base: &str, email: &str) -> Client {
    let client = Client::builder().cookie_store(true).build().unwrap();
    let login = client
        .post(format!("{base}/api/auth/login"))
        .header("Origin", base)
        .form(&[("email", email), ("password", common::PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(login.status().is_success() || login.status().is_redirection(), "{}", login.status());
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_on_two_instances_see_each_other_and_each_others_notes() {
    let Some(database) = TestDatabase::create().await else { return };
    let store = Store::connect(&database.url).await.expect("migrate the new database");
    let key = api_key::generate();
    let app_id = store.create_app("Shop", &api_key::hash(&key), 1).await.unwrap().id;
    let hash = password::hash(common::PASSWORD.into()).await.unwrap();
    store.create_admin("admin@example.com", &hash, "admin", 1).await.unwrap();
    store.create_admin("pm@example.com", &hash, "viewer", 1).await.unwrap();
    let (mut a, b) = (start(&database.url, &[]).await, start(&database.url, &[]).await);
    let put = common::client().put(format!("{}/api/v1/users/ana", a.base)).bearer_auth(&key).json(&json!({})).send();
    assert_eq!(put.await.unwrap().status(), StatusCode::OK);
    let ana = store.user_by_external_id(app_id, "ana").await.unwrap().unwrap().id;
    let (admin, pm) = (signed_in(&a.base, "admin@example.com").await, signed_in(&b.base, "pm@example.com").await);
    let patience = common::SSE_PATIENCE;

    let mut on_b = common::EventStream::open(&pm, &format!("{}/api/live/users/{ana}", b.base), None).await;
    assert!(on_b.next_presence(patience).await.is_empty());
    let mut on_a = common::EventStream::open(&admin, &format!("{}/api/live/users/{ana}", a.base), None).await;
    assert_eq!(on_a.next_presence(patience).await, ["pm@example.com (viewer)"], "B's viewer, seen on A");
    assert_eq!(on_b.next_presence(patience).await, ["admin@example.com (admin)"], "A's admin, seen on B");

    // A note written on A reaches the profile open on B.
    let added = admin
        .post(format!("{}/api/notes/add", a.base))
        .header("Origin", &a.base)
        .header("Accept", "application/json")
        .form(&[("user_id", ana.to_string().as_str()), ("body", "Seen on both")])
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::OK);
    let heard = on_b.next().await;
    assert_eq!(heard.event, "notes", "{heard:?}");

    // The admin's tab closes: B hears it at once. Then A dies with the tab
    // open again: B forgets it once A stops announcing it.
    drop(on_a);
    assert!(on_b.next_presence(patience).await.is_empty(), "closed on A");
    let _again = common::EventStream::open(&admin, &format!("{}/api/live/users/{ana}", a.base), None).await;
    assert_eq!(on_b.next_presence(patience).await, ["admin@example.com (admin)"]);
    a.kill_now();
    let expiry = app::live::presence::EXPIRES_AFTER + app::live::presence::SWEEP_EVERY + Duration::from_secs(10);
    assert!(on_b.next_presence(expiry).await.is_empty(), "a dead instance's tabs expire");

    drop(b);
    store.close().await;
    database.finish().await;
}
