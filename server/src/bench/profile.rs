//! `server bench profile`: the profile page as a browser gets it, rendered
//! on the server. Starts this binary as a server process, signs an admin
//! in, and fetches `/users/{id}` for a normal user (a few events) and for
//! the heaviest one (the activity bench's user, 1,000,000 events by
//! default): time to the first byte (the answer's headers), time to the
//! whole HTML, and its size; then each box's server function over HTTP.

use std::time::{Duration, Instant};

use anyhow::Context;
use app::auth::{api_key, password};
use app::store::{BulkEvent, UserInput};
use app::time::now_ms;

use super::ingest::{signed_in_client, start_server};
use super::summary;
use crate::config::Config;
use crate::web::open_store;

use super::WARM_UP;

pub async fn profile(config: &Config, events: usize, runs: usize) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let (app_id, heavy) = super::activity::seed(&store, events).await.context("seeding the heaviest user")?;
    let now = now_ms();
    let input = UserInput { user_name: Some("Profile bench user"), email: Some("profile-bench@example.com") };
    let normal = store.upsert_user(app_id, &"bench-profile-normal".parse()?, &input, now).await?.id;
    if store.recent_user_events(app_id, normal, 0, 1).await?.is_empty() {
        let few: Vec<BulkEvent> = (0..100)
            .map(|i| BulkEvent {
                event_type: "re.notifica.event.application.Open".into(),
                user_id: Some(normal),
                device_id: None,
                occurred_at: now - i * 60_000,
                data: None,
            })
            .collect();
        store.bulk_insert_events(app_id, &few, now).await?;
    }
    let email = format!("profile-bench-{now}@bench.test");
    let secret = api_key::generate();
    let hash = password::hash(secret.clone()).await.map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
    store.create_admin(&email, &hash, "admin", now).await?;
    store.close().await;

    let (_server, base) = start_server(config).await?;
    let admin = signed_in_client(&base, &email, &secret, app_id).await?;
    println!(
        "profile page (server-rendered) on {}, {runs} runs each after {WARM_UP} warm-up:",
        app::store::redact_url(&config.database_url)
    );
    for (label, user_id) in [("normal user (100 events)", normal), ("heaviest user", heavy)] {
        let url = format!("{base}/users/{user_id}");
        let (mut first_byte, mut whole, mut bytes) = (Vec::<Duration>::new(), Vec::<Duration>::new(), 0usize);
        for run in 0..WARM_UP + runs {
            let started = Instant::now();
            let response = admin.get(&url).send().await?;
            let headers = started.elapsed();
            anyhow::ensure!(response.status().is_success(), "{url} answered {}", response.status());
            let html = response.bytes().await?;
            if run >= WARM_UP {
                first_byte.push(headers);
                whole.push(started.elapsed());
                bytes = html.len();
            }
        }
        println!("  {label:<28} first byte: {}", summary(first_byte));
        println!("  {label:<28} whole HTML ({bytes} B): {}", summary(whole));
    }
    println!("each box's server function over HTTP (what the browser calls), {runs} runs each:");
    for (label, user_id) in [("normal user", normal), ("heaviest user", heavy)] {
        for (endpoint, extra) in BOXES {
            let mut form = vec![("user_id", user_id.to_string())];
            form.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
            let url = format!("{base}/api/{endpoint}");
            let mut times = Vec::with_capacity(runs);
            for run in 0..WARM_UP + runs {
                let started = Instant::now();
                // Server functions check the Origin (CSRF), as a browser sends it.
                let response = admin.post(&url).header("Origin", &base).form(&form).send().await?;
                anyhow::ensure!(response.status().is_success(), "{url} answered {}", response.status());
                response.bytes().await?;
                if run >= WARM_UP {
                    times.push(started.elapsed());
                }
            }
            println!("  {label:<14} {endpoint:<20} {}", summary(times));
        }
    }
    Ok(())
}

/// The profile page's boxes: each server function the page calls, with
/// the arguments it sends besides `user_id` (the default 30-day search).
const BOXES: &[(&str, &[(&str, &str)])] = &[
    ("profile/get", &[]),
    ("segments/of-user", &[]),
    ("activity/recent", &[]),
    ("activity/search", &[]),
    ("activity/histogram", &[]),
    ("activity/timeline", &[]),
    ("messages/list", &[("limit", "20")]),
    ("profile/access-log", &[]),
];
