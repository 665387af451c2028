//! Limits past one instance and behind a proxy: on PostgreSQL the sign-in
//! and ingest limits are counted in the database, so two server processes
//! on one database refuse together what one would refuse; the counter itself
//! (GCRA) is checked on both databases; and `X-Forwarded-For` names the
//! client only when the peer is a trusted proxy.

mod common;

use app::auth::{api_key, password};
use app::store::testing::TestDatabase;
use app::store::{SharedQuota, Store};
use app::store_test;
use common::instances::start;
use common::TestApp;
use reqwest::StatusCode;
use serde_json::json;

store_test!(the_database_counter_allows_a_burst_then_one_per_period, |store: Store| async move {
    let quota = SharedQuota { period_us: 1_000_000, burst: 3 };
    let t0 = 1_000_000_000;
    for n in 0..3 {
        assert_eq!(store.take_rate_token("k", quota, t0).await.unwrap(), None, "request {n} of the burst");
    }
    let wait = store.take_rate_token("k", quota, t0).await.unwrap().expect("the 4th waits");
    assert_eq!(wait, 1_000_000, "until one period has passed");
    assert_eq!(store.take_rate_token("other", quota, t0).await.unwrap(), None, "keys are apart");
    assert_eq!(store.take_rate_token("k", quota, t0 + 1_000_000).await.unwrap(), None, "one more a period later");
    assert!(store.take_rate_token("k", quota, t0 + 1_000_000).await.unwrap().is_some());
    assert_eq!(store.forget_rate_limits(t0 + 10_000_000).await.unwrap(), 2, "spent keys are forgotten");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgres_share_the_sign_in_and_ingest_limits() {
    let Some(database) = TestDatabase::create().await else { return };
    let store = Store::connect(&database.url).await.unwrap();
    let key = api_key::generate();
    store.create_app("A", &api_key::hash(&key), 1).await.unwrap();
    let hash = password::hash(common::PASSWORD.into()).await.unwrap();
    store.create_admin("admin@example.com", &hash, "admin", 1).await.unwrap();
    store.close().await;
    // One ingest request a second per app, bursts of 2: for both together.
    let env = [("INGEST_RATE_PER_SEC", "1")];
    let instances = [start(&database.url, &env).await, start(&database.url, &env).await];
    let http = common::client();

    let mut statuses = Vec::new();
    for n in 0..4 {
        let base = &instances[n % 2].base;
        let events = json!([{"type": "tap"}]);
        let response = http.post(format!("{base}/api/v1/events")).bearer_auth(&key).json(&events).send().await.unwrap();
        statuses.push(response.status().as_u16());
    }
    // Per process, each instance would have let its own 2 through.
    assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 2, "ingest across instances: {statuses:?}");
    assert_eq!(statuses.iter().filter(|&&s| s == 429).count(), 2, "{statuses:?}");

    // Five sign-in attempts per account at once, wherever they land.
    let mut statuses = Vec::new();
    for n in 0..7 {
        let base = &instances[n % 2].base;
        let response = http
            .post(format!("{base}/api/auth/login"))
            .header("Origin", base)
            .header("Accept", "application/json")
            .form(&[("email", "admin@example.com"), ("password", "wrong")])
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429], "sign-ins across instances");
    drop(instances);
    database.finish().await;
}

/// Sign-in attempts with a different email each time: only the per-IP
/// limit (20 at once) applies.
async fn attempts_until_refused(app: &TestApp, forwarded_for: impl Fn(usize) -> String) -> usize {
    let client = common::client();
    for n in 0..30 {
        let response = client
            .post(format!("{}/api/auth/login", app.base))
            .header("Origin", &app.base)
            .header("Accept", "application/json")
            .header("X-Forwarded-For", forwarded_for(n))
            .form(&[("email", format!("nobody{n}@example.com").as_str()), ("password", "wrong")])
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            return n;
        }
    }
    30
}

store_test!(forwarded_for_counts_only_from_a_trusted_proxy, |store: Store| async move {
    // Off by default: the header is ignored, every attempt is from 127.0.0.1.
    let (app, _) = TestApp::start_configured(store.clone(), |_| {}).await;
    assert_eq!(attempts_until_refused(&app, |n| format!("203.0.113.{n}")).await, 20);
    drop(app);
    // Trusted: each forwarded address has its own allowance...
    let (app, _) = TestApp::start_configured(store, |c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    assert_eq!(attempts_until_refused(&app, |n| format!("198.51.100.{n}")).await, 30);
    // ...and one forwarded address is limited like a direct client.
    assert_eq!(attempts_until_refused(&app, |_| "192.0.2.9".into()).await, 20);
});
