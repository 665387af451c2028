//! `server bench live`: ingest → live stream latency. Starts this binary as
//! a server process, opens a profile's stream as a signed-in viewer would
//! (a real SSE client), posts N events one at a time through the ingest
//! API, and times each from just before its POST to its arrival on the
//! stream.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use app::auth::{api_key, password};
use app::store::Store;
use app::time::now_ms;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::ingest::{signed_in_client, start_server};
use super::summary;
use crate::config::Config;
use crate::web::open_store;

/// Pause between events, so each is timed alone (not queued behind others).
const PACE: Duration = Duration::from_millis(10);

/// A viewer account and an app with one user; returns (key, email, password, app id, user id).
async fn seed(store: &Store) -> anyhow::Result<(String, String, String, i64, i64)> {
    let now = now_ms();
    let key = api_key::generate();
    let app = store.create_app(&format!("Live bench {now}"), &api_key::hash(&key), now).await?;
    let email = format!("live-bench-{now}@bench.test");
    let secret = api_key::generate();
    let hash = password::hash(secret.clone()).await.map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
    store.create_admin(&email, &hash, "viewer", now).await?;
    let user = app::store::UserInput { user_name: Some("Live bench"), email: None };
    let user_id = store.upsert_user(app.id, &"live-bench".parse().expect("a valid userID"), &user, now).await?.id;
    Ok((key, email, secret, app.id, user_id))
}

/// Reads the stream and reports each event's `seq` with its arrival time.
async fn read_stream(mut response: reqwest::Response, arrived: mpsc::UnboundedSender<(u64, Instant)>) {
    let mut buffer = String::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let now = Instant::now();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:")) else { continue };
            let Ok(event) = serde_json::from_str::<Value>(data.trim()) else { continue };
            let seq = event["data"].as_str().and_then(|d| serde_json::from_str::<Value>(d).ok());
            if let Some(seq) = seq.and_then(|d| d["seq"].as_u64()) {
                let _ = arrived.send((seq, now));
            }
        }
    }
}

pub async fn live(config: &Config, events: usize) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let (key, email, secret, app_id, user_id) = seed(&store).await.context("seeding the live bench")?;
    let (_server, base) = start_server(config).await?;
    let viewer = signed_in_client(&base, &email, &secret, app_id).await?;
    let stream = viewer.get(format!("{base}/api/live/users/{user_id}")).send().await?;
    anyhow::ensure!(stream.status().is_success(), "the stream answered {}", stream.status());
    let (arrived_tx, mut arrived) = mpsc::unbounded_channel();
    tokio::spawn(read_stream(stream, arrived_tx));

    let sdk = reqwest::Client::new();
    let mut sent: HashMap<u64, Instant> = HashMap::new();
    let mut latencies = Vec::with_capacity(events);
    for seq in 0..events as u64 {
        let body = json!([{"type": "bench.live", "userID": "live-bench", "id": format!("live-{seq}"),
                           "data": {"seq": seq}}]);
        sent.insert(seq, Instant::now());
        let posted = sdk.post(format!("{base}/api/v1/events")).bearer_auth(&key).json(&body).send().await?;
        anyhow::ensure!(posted.status().is_success(), "ingest answered {}", posted.status());
        // Wait for this one (a lost event fails the bench instead of hanging it).
        loop {
            let (got, at) = tokio::time::timeout(Duration::from_secs(10), arrived.recv())
                .await
                .with_context(|| format!("event {seq} did not arrive on the stream within 10 s"))?
                .context("the stream closed")?;
            if let Some(start) = sent.remove(&got) {
                latencies.push(at - start);
            }
            if got == seq {
                break;
            }
        }
        tokio::time::sleep(PACE).await;
    }
    println!(
        "live: ingest → SSE client, {} events one at a time ({}): {}",
        latencies.len(),
        store.backend_name(),
        summary(latencies)
    );
    Ok(())
}
