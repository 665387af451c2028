//! Crash safety: the real server binary takes a stream of events in
//! batches from four clients that record every acknowledged batch; mid-
//! stream it is killed with SIGKILL (no shutdown, no flush) and started
//! again on the same database and port. The clients retry what was not
//! acknowledged, with the same event ids. Then: every acknowledged event is
//! stored exactly once, retries stored no duplicate, and the database opens
//! cleanly (SQLite's integrity check). On SQLite and on PostgreSQL.
//!
//! `CRASH_EVENTS` sets how many events are sent (default 100,000).

mod common;

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::auth::api_key;
use app::store::testing::TestDatabase;
use app::store::Store;
use common::instances::{free_port, start_on};
use serde_json::{json, Value};

const BATCH: usize = 500;
const CLIENTS: usize = 4;
/// The events belong to this many users (made first).
const USERS: usize = 97;

fn events_to_send() -> usize {
    std::env::var("CRASH_EVENTS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000)
}

/// What the clients saw.
#[derive(Default)]
struct Tally {
    acknowledged: Mutex<BTreeSet<usize>>,
    failed_attempts: AtomicUsize,
    reported_duplicates: AtomicUsize,
}

fn batch(index: usize, events: usize) -> Value {
    let time = chrono::Utc::now().to_rfc3339();
    let first = index * BATCH;
    let last = (first + BATCH).min(events);
    Value::Array(
        (first..last)
            .map(|n| json!({"id": format!("crash-{n}"), "type": "tap", "userID": format!("u{}", n % USERS), "time": time}))
            .collect(),
    )
}

/// Sends batches from `queue` until it is empty, each retried until the
/// server acknowledges it (a killed server refuses or resets; the batch is
/// sent again, same ids, until the restarted one answers 200).
async fn client(base: String, key: String, queue: Arc<Mutex<Vec<usize>>>, events: usize, tally: Arc<Tally>) {
    let http = common::client();
    loop {
        let Some(index) = queue.lock().unwrap().pop() else { return };
        let body = batch(index, events);
        loop {
            let sent = http.post(format!("{base}/api/v1/events")).bearer_auth(&key).json(&body).send().await;
            match sent {
                Ok(response) if response.status().is_success() => {
                    let answer: Value = response.json().await.expect("a JSON answer");
                    let duplicates = answer["duplicates"].as_u64().expect("duplicates in the answer") as usize;
                    tally.reported_duplicates.fetch_add(duplicates, Ordering::Relaxed);
                    tally.acknowledged.lock().unwrap().insert(index);
                    break;
                }
                Ok(response) if response.status().is_server_error() || response.status().as_u16() == 429 => {}
                Ok(response) => panic!("batch {index}: {} {}", response.status(), response.text().await.unwrap()),
                Err(_) => {}
            }
            tally.failed_attempts.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn kill_mid_stream_and_retry(database_url: &str) {
    let events = events_to_send();
    let batches = events.div_ceil(BATCH);
    let key = api_key::generate();
    let store = Store::connect(database_url).await.expect("open the database");
    let app_id = store.create_app("Crash", &api_key::hash(&key), 1).await.unwrap().id;
    store.close().await;

    let port = free_port();
    let env = [("INGEST_RATE_PER_SEC", "100000")];
    let mut server = start_on(port, database_url, &env).await;
    let base = server.base.clone();
    let http = common::client();
    for n in 0..USERS {
        let answer = http.put(format!("{base}/api/v1/users/u{n}")).bearer_auth(&key).json(&json!({})).send().await;
        assert!(answer.unwrap().status().is_success(), "user u{n} created");
    }
    let queue = Arc::new(Mutex::new((0..batches).rev().collect::<Vec<_>>()));
    let tally = Arc::new(Tally::default());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| tokio::spawn(client(base.clone(), key.clone(), queue.clone(), events, tally.clone())))
        .collect();

    // Kill it a third of the way in, while batches are in flight.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    while tally.acknowledged.lock().unwrap().len() < batches / 3 {
        assert!(!clients.iter().any(|c| c.is_finished()), "a client stopped before the kill");
        assert!(tokio::time::Instant::now() < deadline, "no progress: the server takes no events");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    server.kill_now();
    let acknowledged_at_kill = tally.acknowledged.lock().unwrap().len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let server = start_on(port, database_url, &env).await;
    for client in clients {
        client.await.expect("a client");
    }
    drop(server);

    let store = Store::connect(database_url).await.expect("the database opens after the crash");
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
    let stored: HashMap<String, i64> = store.stored_client_ids(app_id).await.unwrap().into_iter().collect();
    let miscounted = store.event_hours_mismatches(app_id).await.unwrap();
    store.close().await;

    let acknowledged = tally.acknowledged.lock().unwrap().clone();
    let acknowledged_events: usize = acknowledged.iter().map(|&i| batch(i, events).as_array().unwrap().len()).sum();
    let lost: Vec<String> = (0..events)
        .filter(|n| acknowledged.contains(&(n / BATCH)))
        .map(|n| format!("crash-{n}"))
        .filter(|id| !stored.contains_key(id))
        .collect();
    let duplicates: i64 = stored.values().map(|count| count - 1).sum();
    let stored_events: i64 = stored.values().sum();
    // Past libtest's capture, so CI's log shows the counts.
    let _ = writeln!(
        std::io::stderr(),
        "crash safety ({}): sent {events}, acknowledged {acknowledged_events} ({} batches, {acknowledged_at_kill} \
         before the kill), stored {stored_events}, duplicates {duplicates}, lost acknowledged {}, failed attempts \
         retried {}, duplicates the server reported on retry {}",
        database_url.split(':').next().unwrap_or_default(),
        acknowledged.len(),
        lost.len(),
        tally.failed_attempts.load(Ordering::Relaxed),
        tally.reported_duplicates.load(Ordering::Relaxed),
    );
    assert!(acknowledged_at_kill < batches, "the kill came before the end of the stream");
    assert!(tally.failed_attempts.load(Ordering::Relaxed) > 0, "some batches met the dead server and were retried");
    assert_eq!(acknowledged.len(), batches, "every batch acknowledged in the end");
    assert!(lost.is_empty(), "acknowledged events lost: {:?}…", &lost[..lost.len().min(5)]);
    assert_eq!(duplicates, 0, "an event stored twice");
    assert!(
        miscounted.is_empty(),
        "hour counts not written with their events: {:?}",
        &miscounted[..miscounted.len().min(5)]
    );
    assert_eq!(stored_events as usize, events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_ingest_loses_no_acknowledged_event_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("crash.db").display());
    kill_mid_stream_and_retry(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_ingest_loses_no_acknowledged_event_postgres() {
    let Some(database) = TestDatabase::create().await else { return };
    kill_mid_stream_and_retry(&database.url).await;
    database.finish().await;
}
