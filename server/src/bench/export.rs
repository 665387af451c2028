//! `server bench export`: Options > Export of a user with many events (the
//! activity bench's user, 1,000,000 events by default, seeded once and
//! reused). Starts this binary as a server process, signs in as an admin,
//! downloads the JSON export and the events CSV through HTTP, and samples
//! the server process's resident memory (`VmRSS` from `/proc`) every 10 ms
//! while each streams: the growth over the idle server is the figure (the
//! target is under 100 MB).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use app::auth::{api_key, password};
use app::time::now_ms;

use super::ingest::start_server;
use crate::config::Config;
use crate::web::open_store;

/// Resident memory of a process in bytes, from `/proc/<pid>/status`.
fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

const MB: f64 = 1024.0 * 1024.0;

pub async fn export(config: &Config, events: usize) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let (app_id, user_id) = super::activity::seed(&store, events).await.context("seeding the export bench")?;
    let now = now_ms();
    let email = format!("export-bench-{now}@bench.test");
    let secret = api_key::generate();
    let hash = password::hash(secret.clone()).await.map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
    store.create_admin(&email, &hash, "admin", now).await?;
    store.close().await;

    let (server, base) = start_server(config).await?;
    let pid = server.pid();
    let admin = reqwest::Client::builder().cookie_store(true).build()?;
    let login = admin
        .post(format!("{base}/api/auth/login"))
        .header("Origin", &base)
        .form(&[("email", email.as_str()), ("password", secret.as_str())])
        .send()
        .await?;
    anyhow::ensure!(login.status().is_success(), "sign-in failed: {}", login.status());
    let switch = admin
        .post(format!("{base}/api/apps/switch"))
        .header("Origin", &base)
        .form(&[("app_id", app_id.to_string())])
        .send()
        .await?;
    anyhow::ensure!(switch.status().is_success(), "choosing the bench app failed: {}", switch.status());

    println!("| export of a user with {events} events | bytes | seconds | MB/s | server RSS before | peak | growth |");
    println!("|---|---|---|---|---|---|---|");
    for (what, path) in
        [("JSON", format!("/api/users/{user_id}/export")), ("events CSV", format!("/api/users/{user_id}/events.csv"))]
    {
        // Let the previous download's memory settle before the baseline.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = rss_bytes(pid).context("cannot read the server's memory from /proc")?;
        let peak = Arc::new(AtomicU64::new(before));
        let done = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (peak, done) = (peak.clone(), done.clone());
            tokio::spawn(async move {
                while !done.load(Ordering::Relaxed) {
                    if let Some(rss) = rss_bytes(pid) {
                        peak.fetch_max(rss, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
        };
        let started = Instant::now();
        let mut response = admin.get(format!("{base}{path}")).send().await?;
        anyhow::ensure!(response.status().is_success(), "{path} answered {}", response.status());
        let mut bytes = 0u64;
        while let Some(chunk) = response.chunk().await.context("the download broke")? {
            bytes += chunk.len() as u64;
        }
        let seconds = started.elapsed().as_secs_f64();
        done.store(true, Ordering::Relaxed);
        sampler.await?;
        let peak = peak.load(Ordering::Relaxed);
        println!(
            "| {what} | {bytes} | {seconds:.1} | {:.1} | {:.1} MB | {:.1} MB | **{:.1} MB** |",
            bytes as f64 / MB / seconds,
            before as f64 / MB,
            peak as f64 / MB,
            peak.saturating_sub(before) as f64 / MB
        );
    }
    drop(server);
    Ok(())
}
