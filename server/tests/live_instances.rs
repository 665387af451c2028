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
