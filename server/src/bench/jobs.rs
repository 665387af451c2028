//! `server bench jobs`: background jobs at scale, through a server process
//! over HTTP. Each run makes an app of its own (the earlier run's is
//! removed first) and:
//! - imports `--users` new users from a generated CSV file through
//!   `POST /api/v1/users/import` (userID, userName, email and two
//!   properties), sampling the server's memory while the job runs (the
//!   growth over the idle server is the figure); the rate is the job's rows
//!   over its own start-to-end time (the upload is not counted);
//! - settles the database ([`app::store::Store::settle`]: what autovacuum
//!   does in time after such a load; without it the add's figure depends
//!   on whether an autovacuum of the new rows happened to run first), then
//!   adds all of them to a segment ("Add to segment" over the list's
//!   whole view, a job), while a second client loads one user's profile
//!   page again and again: the profile's render time while a job runs,
//!   against the same page loaded with no job running just before;
//! - with `--again`, last, imports the same file again, each row now
//!   updating a user that exists and changes nothing (a re-run of an
//!   import), then a file naming the same users with new names (each user
//!   renamed, so re-indexed for search).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use app::auth::{api_key, password};
use app::time::now_ms;
use serde_json::Value;

use super::export::rss_bytes;
use super::ingest::{signed_in_client, start_server};
use super::summary;
use crate::config::Config;
use crate::web::open_store;

const APP_PREFIX: &str = "bench-jobs-";
const MB: f64 = 1024.0 * 1024.0;

/// The CSV file of `users` users named "`name` N", written to a temporary file.
fn write_csv(users: usize, name: &str) -> anyhow::Result<std::path::PathBuf> {
    use std::io::Write;
    let slug = name.replace(' ', "-");
    let path = std::env::temp_dir().join(format!("audience-bench-import-{slug}-{users}.csv"));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
    writeln!(file, "userID,userName,email,plan,seats")?;
    for i in 0..users {
        let plan = ["free", "pro", "team"][i % 3];
        writeln!(file, "imp-{i:07},{name} {i},user{i}@example.com,{plan},{}", i % 50)?;
    }
    file.flush()?;
    Ok(path)
}

/// Polls a job until it ends: its last answer.
async fn until_ended(client: &reqwest::Client, url: &str, key: &str) -> anyhow::Result<Value> {
    loop {
        let job: Value = client.get(url).bearer_auth(key).send().await?.json().await?;
        if ["done", "failed", "cancelled"].contains(&job["status"].as_str().unwrap_or_default()) {
            return Ok(job);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Uploads the CSV file `csv` to the import API and waits for its job to
/// end: the job's last answer and the upload's seconds.
async fn import_file(
    api: &reqwest::Client,
    base: &str,
    key: &str,
    csv: &std::path::Path,
) -> anyhow::Result<(Value, f64)> {
    let uploaded = Instant::now();
    let body = tokio::fs::read(csv).await?;
    let answer: Value = api
        .post(format!("{base}/api/v1/users/import"))
        .bearer_auth(key)
        .header("Content-Type", "text/csv")
        .body(body)
        .send()
        .await?
        .json()
        .await?;
    let upload_seconds = uploaded.elapsed().as_secs_f64();
    let id = answer["id"].as_i64().with_context(|| format!("the import was refused: {answer}"))?;
    let job = until_ended(api, &format!("{base}/api/v1/jobs/{id}"), key).await?;
    anyhow::ensure!(job["status"] == "done", "the import did not finish: {job}");
    Ok((job, upload_seconds))
}

/// Seconds from a job's start to its end, from its own timestamps.
fn job_seconds(job: &Value) -> anyhow::Result<f64> {
    let at = |key: &str| {
        job[key]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .with_context(|| format!("the job has no {key} time: {job}"))
    };
    Ok((at("finished")? - at("started")?).num_milliseconds() as f64 / 1000.0)
}

pub async fn jobs(config: &Config, users: usize, again: bool) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    for app in store.list_apps().await?.into_iter().filter(|app| app.name.starts_with(APP_PREFIX)) {
        let rows = store.delete_imported_app(app.id).await?;
        eprintln!("removed an earlier run's app {} ({rows} rows)", app.name);
    }
    store.settle().await?;
    let now = now_ms();
    let key = api_key::generate();
    let app = store.create_app(&format!("{APP_PREFIX}{now}"), &api_key::hash(&key), now).await?;
    let email = format!("jobs-bench-{now}@bench.test");
    let secret = api_key::generate();
    let hash = password::hash(secret.clone()).await.map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
    store.create_admin(&email, &hash, "admin", now).await?;
    store.close().await;
    let csv = write_csv(users, "Imported user")?;
    let bytes = std::fs::metadata(&csv)?.len();

    let (server, base) = start_server(config).await?;
    let pid = server.pid();
    let api = reqwest::Client::new();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, anon_before) = rss_bytes(pid).context("cannot read the server's memory from /proc")?;
    let peak = Arc::new(AtomicU64::new(anon_before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                if let Some((_, anon)) = rss_bytes(pid) {
                    peak.fetch_max(anon, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let (imported, upload_seconds) = import_file(&api, &base, &key, &csv).await?;
    done.store(true, Ordering::Relaxed);
    sampler.await?;
    let seconds = job_seconds(&imported)?;
    let rows = imported["changed"].as_i64().unwrap_or(0);
    let growth = peak.load(Ordering::Relaxed).saturating_sub(anon_before) as f64 / MB;
    println!(
        "import: {rows} users from a {:.1} MB CSV file in {seconds:.1} s (upload {upload_seconds:.1} s): {:.0} users/s ({} refused)",
        bytes as f64 / MB,
        rows as f64 / seconds,
        imported["refused"]
    );
    println!("import memory: anonymous (heap) growth {growth:.1} MB over the idle server");

    // Add them all to a segment while a second client loads a profile.
    let admin = signed_in_client(&base, &email, &secret, app.id).await?;
    let store = open_store(config).await?;
    store.settle().await?;
    let profile = store.user_by_external_id(app.id, "imp-0000000").await?.context("an imported user")?.id;
    store.close().await;
    // The same page with no job running, to compare with.
    let viewer = signed_in_client(&base, &email, &secret, app.id).await?;
    let mut idle = Vec::new();
    for _ in 0..100 {
        let began = Instant::now();
        let page = viewer.get(format!("{base}/users/{profile}")).send().await?;
        anyhow::ensure!(page.status().is_success(), "the profile answered {}", page.status());
        page.bytes().await?;
        idle.push(began.elapsed());
    }
    println!("profile with no job running (whole page, server render, {} loads): {}", idle.len(), summary(idle));
    let started: Value = admin
        .post(format!("{base}/api/jobs/bulk"))
        .header("Origin", &base)
        .form(&[("action", "add_to_segment"), ("view", ""), ("segment", "Bench bulk")])
        .send()
        .await?
        .json()
        .await?;
    let id = started["id"].as_i64().with_context(|| format!("the bulk action was refused: {started}"))?;
    let mut timings = Vec::new();
    let job_url = format!("{base}/api/v1/jobs/{id}");
    // A load first, then the job's status: a job over a few users may end
    // before a second request, and the figure still has its first load.
    let added = loop {
        let began = Instant::now();
        let page = viewer.get(format!("{base}/users/{profile}")).send().await?;
        anyhow::ensure!(page.status().is_success(), "the profile answered {}", page.status());
        page.bytes().await?;
        timings.push(began.elapsed());
        let job: Value = api.get(&job_url).bearer_auth(&key).send().await?.json().await?;
        if job["status"] != "queued" && job["status"] != "running" {
            break job;
        }
    };
    anyhow::ensure!(added["status"] == "done", "the bulk action did not finish: {added}");
    let seconds = job_seconds(&added)?;
    let total = added["total"].as_i64().unwrap_or(0);
    println!(
        "add to segment: {total} users ({} added) in {seconds:.1} s: {:.0} users/s",
        added["changed"],
        total as f64 / seconds
    );
    println!("profile while a job runs (whole page, server render, {} loads): {}", timings.len(), summary(timings));
    if again {
        // The same file again: every row updates a user that exists and
        // changes nothing, the path a re-run of an import takes. Then every
        // user renamed: each one's search rows are replaced.
        let renamed = write_csv(users, "Renamed user")?;
        for (label, file) in [("the same file again (every user exists)", &csv), ("every user renamed", &renamed)] {
            let (rerun, _) = import_file(&api, &base, &key, file).await?;
            let seconds = job_seconds(&rerun)?;
            println!(
                "{label}: {} users updated in {seconds:.1} s: {:.0} users/s ({} refused)",
                rerun["changed"],
                rerun["changed"].as_i64().unwrap_or(0) as f64 / seconds,
                rerun["refused"]
            );
        }
        let _ = std::fs::remove_file(&renamed);
    }
    let _ = std::fs::remove_file(&csv);
    drop(server);
    Ok(())
}
