//! `server bench ingest`: events per second through the real ingest API.
//! Seeds a fresh app with N users (each with one device), starts this same
//! binary as a separate server process on a free port, and posts events with
//! 1, 4 and 16 concurrent HTTP clients (reqwest, keep-alive, one connection
//! each), in batches of 500 and of 1. Bodies are built before the clock
//! starts, so the figures are the server's, not the JSON encoder's.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use app::auth::api_key;
use app::model::devices::DeviceAttributes;
use app::store::{write_tx, BulkUser, DeviceInput, Store};
use app::time::now_ms;
use serde_json::{json, Value};

use crate::config::Config;
use crate::web::open_store;

/// What one configuration of the run measured.
pub(crate) struct Outcome {
    requests: usize,
    pub(crate) failed: usize,
    pub(crate) events: u64,
    pub(crate) elapsed: Duration,
    latencies: Vec<Duration>,
    pub(crate) first_failure: Option<String>,
}

/// The server under test, a child process; killed when dropped.
pub(crate) struct ServerProcess(Child);

impl ServerProcess {
    /// The server's process id (for its memory in `/proc`).
    pub(crate) fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Each run ingests into an app of its own, named this and the time.
const APP_PREFIX: &str = "Ingest bench ";

/// Deletes the events and properties earlier runs ingested (their apps'
/// users and devices stay): left there, every run added 300,000 or more
/// events (or 500,000 properties) to the database the other benches
/// measure as holding 10M (or 20M).
/// Then the database is settled ([`Store::settle`]: on PostgreSQL a
/// `VACUUM`), or the measured run would write among their dead rows while
/// autovacuum cleaned them up beside it.
async fn delete_earlier_runs(store: &Store) -> anyhow::Result<()> {
    let mut deleted = 0;
    for app in store.list_apps().await?.into_iter().filter(|app| app.name.starts_with(APP_PREFIX)) {
        let events = store.delete_app_events(app.id).await?;
        let properties = store.delete_app_properties(app.id).await?;
        if events + properties > 0 {
            eprintln!("deleted the {events} events and {properties} property rows of an earlier run ({})", app.name);
        }
        deleted += events + properties;
    }
    if deleted > 0 {
        store.settle().await?;
    }
    Ok(())
}

pub(crate) async fn seed(store: &Store, users: usize) -> anyhow::Result<(i64, String)> {
    delete_earlier_runs(store).await.context("deleting earlier runs' events")?;
    let now = now_ms();
    let key = api_key::generate();
    let app = store.create_app(&format!("{APP_PREFIX}{now}"), &api_key::hash(&key), now).await?;
    let bulk: Vec<BulkUser> = (0..users)
        .map(|i| BulkUser {
            external_id: format!("u-{i}"),
            user_name: Some(format!("Bench user {i}")),
            email: None,
            created_at: now,
            last_seen_at: None,
        })
        .collect();
    store.bulk_insert_users(app.id, &bulk).await?;
    write_tx!(store, |tx| {
        for i in 0..users {
            let device = DeviceInput {
                user_external_id: Some(format!("u-{i}").parse().expect("a valid userID")),
                attributes: DeviceAttributes { platform: "iOS".into(), ..Default::default() },
                ..Default::default()
            };
            tx.upsert_device(app.id, &format!("d-{i}").parse().expect("a valid deviceID"), &device, now).await?;
        }
        Ok(())
    })?;
    // The new users analyzed and their pages marked visible, as an app's
    // users are once the database has settled: otherwise the measured run
    // meets the planner's idea of an empty app and autovacuum beside it.
    store.settle().await?;
    Ok((app.id, key))
}

/// Starts `server serve` on a free port with the rate limit out of the way.
pub(crate) async fn start_server(config: &Config) -> anyhow::Result<(ServerProcess, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new(std::env::current_exe()?)
        .arg("serve")
        .env("DATABASE_URL", &config.database_url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("SMTP_PORT", "0")
        .env("INGEST_RATE_PER_SEC", "1000000")
        .env("RUST_LOG", std::env::var("BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()))
        .stdout(Stdio::null())
        .spawn()
        .context("cannot start the server process")?;
    let server = ServerProcess(child);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    // Any HTTP answer (here the API's 404) means it listens and has migrated.
    while client.get(format!("{base}/api/v1/")).send().await.is_err() {
        anyhow::ensure!(started.elapsed() < Duration::from_secs(60), "the server did not start within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok((server, base))
}

/// A cookie-keeping HTTP client signed in to the server at `base` as
/// `email`, as the console's sign-in form does it, looking at `app_id` (a
/// bench database may hold other benches' apps).
pub(crate) async fn signed_in_client(
    base: &str,
    email: &str,
    password: &str,
    app_id: i64,
) -> anyhow::Result<reqwest::Client> {
    let client = reqwest::Client::builder().cookie_store(true).build()?;
    let login = client
        .post(format!("{base}/api/auth/login"))
        .header("Origin", base)
        .form(&[("email", email), ("password", password)])
        .send()
        .await?;
    anyhow::ensure!(login.status().is_success(), "sign-in failed: {}", login.status());
    let switch = client
        .post(format!("{base}/api/apps/switch"))
        .header("Origin", base)
        .form(&[("app_id", app_id.to_string())])
        .send()
        .await?;
    anyhow::ensure!(switch.status().is_success(), "choosing the bench app failed: {}", switch.status());
    Ok(client)
}

/// Request bodies of one client: `requests` batches of `batch` events.
pub(crate) fn bodies(run: &str, client: usize, requests: usize, batch: usize, users: usize) -> Vec<Vec<u8>> {
    (0..requests)
        .map(|r| {
            let events: Vec<Value> = (0..batch)
                .map(|n| {
                    let user = rand::random_range(0..users);
                    let mut event = json!({
                        "id": format!("{run}-{client}-{r}-{n}"),
                        "type": if n % 4 == 0 { "custom.purchase" } else { "re.notifica.event.application.Open" },
                        "userID": format!("u-{user}"),
                        "deviceID": format!("d-{user}"),
                        "sessionID": format!("s-{client}-{r}"),
                    });
                    if n % 4 == 0 {
                        event["data"] = json!({"value": 9.99, "currency": "EUR"});
                    }
                    event
                })
                .collect();
            serde_json::to_vec(&events).expect("JSON")
        })
        .collect()
}

/// Posts every body of every client, the clients concurrently.
pub(crate) async fn run_case(base: &str, key: &str, per_client: Vec<Vec<Vec<u8>>>) -> Outcome {
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for bodies in per_client {
        let (url, key) = (format!("{base}/api/v1/events"), key.to_string());
        tasks.spawn(async move {
            let client = reqwest::Client::new();
            let mut results = Vec::with_capacity(bodies.len());
            for body in bodies {
                let sent = Instant::now();
                let answer = client
                    .post(&url)
                    .bearer_auth(&key)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                let result = match answer {
                    Ok(response) if response.status().is_success() => {
                        let body: Value = response.json().await.unwrap_or_default();
                        Ok(body["accepted"].as_u64().unwrap_or(0))
                    }
                    Ok(response) => Err(format!("{} {}", response.status(), response.text().await.unwrap_or_default())),
                    Err(err) => Err(err.to_string()),
                };
                results.push((sent.elapsed(), result));
            }
            results
        });
    }
    let mut outcome = Outcome {
        requests: 0,
        failed: 0,
        events: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
        first_failure: None,
    };
    while let Some(results) = tasks.join_next().await {
        for (latency, result) in results.expect("client task") {
            outcome.requests += 1;
            outcome.latencies.push(latency);
            match result {
                Ok(accepted) => outcome.events += accepted,
                Err(err) => {
                    outcome.failed += 1;
                    outcome.first_failure.get_or_insert(err);
                }
            }
        }
    }
    outcome.elapsed = started.elapsed();
    outcome.latencies.sort();
    outcome
}

fn percentile(sorted: &[Duration], p: usize) -> f64 {
    let index = (sorted.len() * p / 100).min(sorted.len().saturating_sub(1));
    sorted.get(index).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// `events`: events per configuration with batches of 500; `singles`:
/// requests per configuration with one event each.
pub async fn ingest(config: &Config, users: usize, events: usize, singles: usize) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let (app_id, key) = seed(&store, users).await.context("seeding the bench app")?;
    let before = store.count_events(app_id).await?;
    let (_server, base) = start_server(config).await?;
    // Warm-up: connections, prepared statements, caches.
    let warm: Vec<_> = (0..4).map(|c| bodies("warm", c, 4, 500, users)).collect();
    let warm_events = run_case(&base, &key, warm).await.events;

    println!("ingest on {} with {users} users, release server, one HTTP connection per client:", store.backend_name());
    println!("| clients | events/request | requests | events/s | requests/s | failed | p50 ms | p99 ms |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut stored = warm_events;
    for clients in [1usize, 4, 16] {
        for batch in [500usize, 1] {
            let total = if batch == 1 { singles } else { events / batch };
            let per_client = total.div_ceil(clients);
            let run = format!("r{clients}x{batch}-{}", now_ms());
            let work: Vec<_> = (0..clients).map(|c| bodies(&run, c, per_client, batch, users)).collect();
            let outcome = run_case(&base, &key, work).await;
            stored += outcome.events;
            let seconds = outcome.elapsed.as_secs_f64();
            println!(
                "| {clients} | {batch} | {} | {:.0} | {:.0} | {} | {:.1} | {:.1} |",
                outcome.requests,
                outcome.events as f64 / seconds,
                outcome.requests as f64 / seconds,
                outcome.failed,
                percentile(&outcome.latencies, 50),
                percentile(&outcome.latencies, 99),
            );
            if let Some(failure) = outcome.first_failure {
                eprintln!("  first failure: {failure}");
            }
        }
    }
    let counted = store.count_events(app_id).await? - before;
    anyhow::ensure!(counted as u64 == stored, "stored {counted} events but the server accepted {stored}");
    eprintln!("{stored} events stored, as accepted");
    Ok(())
}
