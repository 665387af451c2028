//! `server bench export`: Options > Export of a user with many events (the
//! activity bench's user, 1,000,000 events by default, seeded once and
//! reused). Starts this binary as a server process, signs in as an admin,
//! downloads the JSON export and the events CSV through HTTP, and samples
//! the server process's resident memory (`VmRSS` from `/proc`) every 10 ms
//! while each streams: the growth over the idle server is the figure (the
//! target is under 100 MB), in all and for anonymous memory alone.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use app::auth::{api_key, password};
use app::time::now_ms;

use super::ingest::{signed_in_client, start_server};
use crate::config::Config;
use crate::web::open_store;

/// Resident memory of a process in bytes, from `/proc/<pid>/status`: all
/// of it (`VmRSS`) and the anonymous part (`RssAnon`: heap and stacks, what
/// the process allocated; the rest is mapped files, such as the SQLite
/// database read through `mmap`, which the kernel shares and evicts).
pub(crate) fn rss_bytes(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
    };
    Some((field("VmRSS:")?, field("RssAnon:")?))
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
    let admin = signed_in_client(&base, &email, &secret, app_id).await?;

    println!("| export of a user with {events} events | bytes | seconds | MB/s | RSS before | RSS growth at peak | anonymous (heap) growth at peak |");
    println!("|---|---|---|---|---|---|---|");
    for (what, path) in
        [("JSON", format!("/api/users/{user_id}/export")), ("events CSV", format!("/api/users/{user_id}/events.csv"))]
    {
        // Let the previous download's memory settle before the baseline.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (rss_before, anon_before) = rss_bytes(pid).context("cannot read the server's memory from /proc")?;
        let peak_rss = Arc::new(AtomicU64::new(rss_before));
        let peak_anon = Arc::new(AtomicU64::new(anon_before));
        let done = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (peak_rss, peak_anon, done) = (peak_rss.clone(), peak_anon.clone(), done.clone());
            tokio::spawn(async move {
                while !done.load(Ordering::Relaxed) {
                    if let Some((rss, anon)) = rss_bytes(pid) {
                        peak_rss.fetch_max(rss, Ordering::Relaxed);
                        peak_anon.fetch_max(anon, Ordering::Relaxed);
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
        let growth = |peak: &AtomicU64, before: u64| peak.load(Ordering::Relaxed).saturating_sub(before) as f64 / MB;
        println!(
            "| {what} | {bytes} | {seconds:.1} | {:.1} | {:.1} MB | {:.1} MB | **{:.1} MB** |",
            bytes as f64 / MB / seconds,
            rss_before as f64 / MB,
            growth(&peak_rss, rss_before),
            growth(&peak_anon, anon_before),
        );
    }
    drop(server);
    Ok(())
}
