//! `server bench live-app`: Audience › Live under load, on the database the
//! config names. Starts this binary as a server process and measures:
//! - ingest → Live page latency: a signed-in viewer's SSE client on
//!   `/api/live/app` while paced ingest clients post at a low and a high
//!   rate. Past its readable rate the stream samples rows, so only the rows
//!   that arrive are timed: each event's `data` names its batch, and each
//!   batch's instant is taken just before its POST (as `bench live` does);
//! - ingest throughput as `bench ingest` measures it (its clients and
//!   bodies, batches of 500) with no Live page open and with several open,
//!   alternated over rounds so a slow stretch of the shared host falls on
//!   both sides; the drop is that of the medians;
//! - the page's first render: `live_page::service::overview`, what the
//!   server function runs, on the bench dataset's "Bench" app.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context;
use app::auth::{api_key, password};
use app::live::{APP_EVENT, APP_STREAM_PATH, RATE};
use app::live_page::service::{overview, MAP_DEVICES, MAP_WINDOW_MS, SHOWN_EVENTS};
use app::live_page::LiveView;
use app::store::Store;
use app::time::now_ms;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::dataset::{self, Scale};
use super::ingest::{self, signed_in_client, start_server};
use super::{summary, WARM_UP};
use crate::config::Config;
use crate::web::open_store;

/// The paced loads: (events/s, events per request). The low one is a busy
/// app's normal traffic, the high one its peak.
const LOADS: [(usize, usize); 2] = [(1_000, 50), (20_000, 500)];
/// Paced clients, each on its own connection: enough that one slow answer
/// does not hold the schedule back.
const PACED_CLIENTS: usize = 8;
/// Clients of the throughput runs: `bench ingest`'s busiest configuration.
const INGEST_CLIENTS: usize = 16;
/// Live pages open beside the throughput runs that have them.
const PAGES: usize = 5;
/// How long after a load its page's stream may take to deliver the load's
/// rows: past it, the stream is too far behind for its latency to matter.
const CATCH_UP: Duration = Duration::from_secs(60);
const LATENCY_GOAL_MS: f64 = 250.0;
const DROP_GOAL_PERCENT: f64 = 10.0;
const RENDER_GOAL_MS: f64 = 50.0;

/// When each batch was posted, by its number.
type Sent = Arc<Mutex<HashMap<u64, Instant>>>;

/// What the page's stream delivered.
enum Seen {
    Row { batch: u64, at: Instant },
    Matched(u64),
}

/// One open Live page: its reader, and what it read.
struct Page {
    reader: JoinHandle<()>,
    seen: mpsc::UnboundedReceiver<Seen>,
}

/// What a page read until its stream had counted a load's events.
struct Counted {
    rows: Vec<(u64, Instant)>,
    matched: u64,
    waited: Duration,
}

impl Page {
    async fn open(viewer: &reqwest::Client, base: &str) -> anyhow::Result<Page> {
        let response = viewer.get(format!("{base}{APP_STREAM_PATH}")).send().await?;
        anyhow::ensure!(response.status().is_success(), "the Live page's stream answered {}", response.status());
        let (tx, seen) = mpsc::unbounded_channel();
        Ok(Page { reader: tokio::spawn(read_stream(response, tx)), seen })
    }

    /// Reads until the stream's `rate` reports add up to `expected` (every
    /// row of the load is in by then), the stream ends, or [`CATCH_UP`]
    /// passes: a stream far behind is timed on the rows it did deliver.
    async fn until_counted(&mut self, expected: u64) -> Counted {
        let started = Instant::now();
        let mut counted = Counted { rows: Vec::new(), matched: 0, waited: Duration::ZERO };
        while counted.matched < expected {
            let left = CATCH_UP.saturating_sub(started.elapsed());
            match tokio::time::timeout(left, self.seen.recv()).await {
                Ok(Some(Seen::Row { batch, at })) => counted.rows.push((batch, at)),
                Ok(Some(Seen::Matched(n))) => counted.matched += n,
                Ok(None) | Err(_) => break,
            }
        }
        counted.waited = started.elapsed();
        counted
    }

    /// Closes the stream; whether the server had closed it first (a stream
    /// that falls behind the broadcast is ended, for the browser to resume).
    fn close(self) -> bool {
        let closed_early = self.reader.is_finished();
        self.reader.abort();
        closed_early
    }
}

/// Reads the stream's rows (with their batch) and `rate` reports.
async fn read_stream(mut response: reqwest::Response, seen: mpsc::UnboundedSender<Seen>) {
    let mut buffer = String::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let at = Instant::now();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let field = |name: &str| block.lines().find_map(|l| l.strip_prefix(name)).map(str::trim);
            let Some(data) = field("data:").and_then(|d| serde_json::from_str::<Value>(d).ok()) else { continue };
            let item = match field("event:") {
                Some(APP_EVENT) => data["event"]["data"]
                    .as_str()
                    .and_then(|d| serde_json::from_str::<Value>(d).ok())
                    .and_then(|d| d["batch"].as_u64())
                    .map(|batch| Seen::Row { batch, at }),
                Some(RATE) => data["matched"].as_u64().map(Seen::Matched),
                _ => None,
            };
            if item.is_some_and(|item| seen.send(item).is_err()) {
                return;
            }
        }
    }
}

/// Bodies of a paced load: batches numbered from `first`, each event's
/// data naming its batch.
fn paced_bodies(first: u64, batches: usize, batch: usize, users: usize) -> Vec<(u64, Vec<u8>)> {
    let run = now_ms();
    (first..first + batches as u64)
        .map(|k| {
            let events: Vec<Value> = (0..batch)
                .map(|n| {
                    let user = rand::random_range(0..users);
                    json!({
                        "id": format!("la-{run}-{k}-{n}"),
                        "type": if n % 4 == 0 { "custom.purchase" } else { "re.notifica.event.application.Open" },
                        "userID": format!("u-{user}"),
                        "deviceID": format!("d-{user}"),
                        "data": {"batch": k},
                    })
                })
                .collect();
            (k, serde_json::to_vec(&events).expect("JSON"))
        })
        .collect()
}

/// What a paced load did: events accepted, requests failed (and the first
/// failure), and the time from its first POST to its last answer.
struct Paced {
    accepted: u64,
    failed: usize,
    first_failure: Option<String>,
    elapsed: Duration,
}

/// Posts `bodies` on a fixed schedule, one every `spacing`, spread over
/// [`PACED_CLIENTS`]; a client behind its schedule posts at once.
async fn paced(base: &str, key: &str, bodies: Vec<(u64, Vec<u8>)>, spacing: Duration, sent: &Sent) -> Paced {
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let mut clients: Vec<Vec<(usize, u64, Vec<u8>)>> = (0..PACED_CLIENTS).map(|_| Vec::new()).collect();
    for (i, (k, body)) in bodies.into_iter().enumerate() {
        clients[i % PACED_CLIENTS].push((i, k, body));
    }
    let mut tasks = tokio::task::JoinSet::new();
    for mine in clients {
        let (url, key, sent) = (format!("{base}/api/v1/events"), key.to_string(), sent.clone());
        tasks.spawn(async move {
            let http = reqwest::Client::new();
            let mut results = Vec::with_capacity(mine.len());
            for (i, k, body) in mine {
                tokio::time::sleep_until(start + spacing * i as u32).await;
                sent.lock().unwrap_or_else(PoisonError::into_inner).insert(k, Instant::now());
                let answer = http.post(&url).bearer_auth(&key).header("content-type", "application/json").body(body);
                results.push(match answer.send().await {
                    Ok(response) if response.status().is_success() => {
                        let body: Value = response.json().await.unwrap_or_default();
                        Ok(body["accepted"].as_u64().unwrap_or(0))
                    }
                    Ok(response) => Err(format!("{} {}", response.status(), response.text().await.unwrap_or_default())),
                    Err(err) => Err(err.to_string()),
                });
            }
            results
        });
    }
    let mut outcome = Paced { accepted: 0, failed: 0, first_failure: None, elapsed: Duration::ZERO };
    while let Some(results) = tasks.join_next().await {
        for result in results.expect("client task") {
            match result {
                Ok(accepted) => outcome.accepted += accepted,
                Err(err) => {
                    outcome.failed += 1;
                    outcome.first_failure.get_or_insert(err);
                }
            }
        }
    }
    outcome.elapsed = start.elapsed();
    outcome
}

/// The first render's reads one after another (the overview runs them side
/// by side), to show which one its time goes to: their medians.
async fn render_reads(store: &Store, app_id: i64, runs: usize) -> anyhow::Result<String> {
    let mut times: [Vec<Duration>; 4] = Default::default();
    macro_rules! timed {
        ($n:expr, $read:expr) => {{
            let started = Instant::now();
            $read.await?;
            times[$n].push(started.elapsed());
        }};
    }
    for _ in 0..runs {
        let now = now_ms();
        timed!(0, store.active_now(app_id, now));
        timed!(1, store.top_event_types(app_id, now, 10));
        timed!(2, store.recent_live_events(app_id, SHOWN_EVENTS * 4));
        timed!(3, store.live_positions(app_id, now - MAP_WINDOW_MS, MAP_DEVICES));
    }
    let ms: Vec<f64> = times
        .iter_mut()
        .map(|t| {
            t.sort();
            t[(t.len() - 1) / 2].as_secs_f64() * 1000.0
        })
        .collect();
    Ok(format!(
        "  its reads one at a time, median of {runs}: active now {:.2} ms, top types {:.2} ms, newest events {:.2} ms, \
         map {:.2} ms",
        ms[0], ms[1], ms[2], ms[3]
    ))
}

/// One paced load of `rate` events/s in requests of `batch`, with a Live
/// page open: its printed line and its goal's verdict.
async fn latency(
    base: &str,
    key: &str,
    viewer: &reqwest::Client,
    users: usize,
    (rate, batch): (usize, usize),
    seconds: f64,
    first_batch: u64,
) -> anyhow::Result<(String, String)> {
    let batches = ((rate as f64 * seconds) / batch as f64).ceil().max(1.0) as usize;
    let bodies = paced_bodies(first_batch, batches, batch, users);
    let sent: Sent = Arc::default();
    let mut page = Page::open(viewer, base).await?;
    let load = paced(base, key, bodies, Duration::from_secs_f64(batch as f64 / rate as f64), &sent).await;
    let counted = page.until_counted(load.accepted).await;
    let closed_early = page.close();
    if let Some(failure) = load.first_failure {
        eprintln!("  first failure: {failure}");
    }
    let posted = sent.lock().unwrap_or_else(PoisonError::into_inner);
    let latencies: Vec<Duration> =
        counted.rows.iter().filter_map(|(batch, at)| posted.get(batch).map(|posted| *at - *posted)).collect();
    let achieved = load.accepted as f64 / load.elapsed.as_secs_f64();
    let (k, matched, waited) = (rate / 1000, counted.matched, counted.waited.as_secs_f64());
    let caught_up = if matched >= load.accepted {
        format!("the stream counted all of them {waited:.1} s after the load")
    } else {
        let why = if closed_early { "the stream CLOSED" } else { "the bench stopped waiting" };
        format!("{why} {waited:.0} s after the load having counted {matched}: later rows are not timed")
    };
    let head = format!(
        "ingest → Live page at ~{k}k events/s: achieved {achieved:.0} events/s ({} accepted, {} requests failed; \
         {caught_up}), {} rows timed",
        load.accepted,
        load.failed,
        latencies.len()
    );
    if latencies.is_empty() {
        return Ok((format!("{head}: none arrived"), format!("latency at ~{k}k events/s: MISSED (no row arrived)")));
    }
    let p99 = p99_ms(&latencies);
    let short = if achieved < rate as f64 * 0.95 { format!(", short of the {rate} asked") } else { String::new() };
    let goal = format!(
        "latency at ~{k}k events/s under {LATENCY_GOAL_MS} ms at the 99th percentile: {} ({p99:.2} ms at \
         {achieved:.0} events/s{short})",
        verdict(p99 < LATENCY_GOAL_MS && matched >= load.accepted)
    );
    Ok((format!("{head}: {}", summary(latencies)), goal))
}

/// The nearest-rank p99 in ms, as [`summary`] reads it.
fn p99_ms(times: &[Duration]) -> f64 {
    let mut times = times.to_vec();
    times.sort();
    times.get((times.len() * 99).div_ceil(100).max(1) - 1).map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}

fn median(values: &[f64]) -> f64 {
    let mut values = values.to_vec();
    values.sort_by(f64::total_cmp);
    // The lower middle of an even count, as `bench all` takes it.
    values.get(values.len().saturating_sub(1) / 2).copied().unwrap_or(f64::NAN)
}

fn verdict(met: bool) -> &'static str {
    ["MISSED", "met"][usize::from(met)]
}

/// `seconds`: length of each paced load; `events`: events per throughput
/// run; `rounds`: throughput runs with and without pages; `runs`: timed
/// first renders; `scale`: the bench dataset's (`bench seed --scale`).
pub async fn live_app(
    config: &Config,
    users: usize,
    seconds: f64,
    events: usize,
    rounds: usize,
    runs: usize,
    scale: f64,
) -> anyhow::Result<()> {
    anyhow::ensure!(rounds >= 1 && runs >= 1 && seconds > 0.0, "--rounds, --runs and --seconds must be positive");
    let store = open_store(config).await?;
    let backend = store.backend_name();
    let mut goals = Vec::new();

    // Earlier runs' events go first (`bench ingest`'s own clean-up): left
    // there, they are the newest events, and the first render below would
    // be timed beside another app's burst rather than on the dataset alone.
    let (app_id, key) = ingest::seed(&store, users).await.context("seeding the ingest app")?;
    // The first render, before any load shares the host with its reads.
    let sizes = Scale::of(scale);
    let bench_app = dataset::seed(&store, sizes).await.context("seeding the bench dataset")?;
    let in_app = store.count_events(bench_app).await?;
    let (mut times, mut shown) = (Vec::with_capacity(runs), (0, 0));
    for run in 0..WARM_UP + runs {
        let started = Instant::now();
        let (page, _) = overview(&store, bench_app, &LiveView::default(), now_ms()).await?;
        if run >= WARM_UP {
            times.push(started.elapsed());
        }
        shown = (page.events.len(), page.positions.len());
    }
    let render_p99 = p99_ms(&times);
    let render = format!(
        "Live page first render (overview, no filter) on {backend}, bench dataset at scale {scale} ({} users, {in_app} \
         events in its app), {runs} runs after {WARM_UP} warm-up ({} rows, {} map positions): {}",
        sizes.users,
        shown.0,
        shown.1,
        summary(times)
    );
    let reads = render_reads(&store, bench_app, runs.min(10)).await?;

    let (email, secret) = (format!("live-app-bench-{}@bench.test", now_ms()), api_key::generate());
    let hash = password::hash(secret.clone()).await.map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
    store.create_admin(&email, &hash, "viewer", now_ms()).await?;
    let (_server, base) = start_server(config).await?;
    // One session per page, as separate browsers would have.
    let mut viewers = Vec::with_capacity(PAGES);
    for _ in 0..PAGES {
        viewers.push(signed_in_client(&base, &email, &secret, app_id).await?);
    }
    // Warm-up: connections, prepared statements, the fan-out's reads.
    let mut page = Page::open(&viewers[0], &base).await?;
    let warm: Vec<_> = (0..4).map(|c| ingest::bodies("warm", c, 4, 500, users)).collect();
    let warm = ingest::run_case(&base, &key, warm).await;
    page.until_counted(warm.events).await;
    page.close();

    println!(
        "Live page on {backend} ({}), release server, {users} users; a signed-in viewer's SSE client on \
         {APP_STREAM_PATH}, {PACED_CLIENTS} paced ingest clients:",
        app::store::redact_url(&config.database_url)
    );
    let mut first_batch = 0;
    for (rate, batch) in LOADS {
        let (line, goal) = latency(&base, &key, &viewers[0], users, (rate, batch), seconds, first_batch).await?;
        first_batch += 1 << 32;
        println!("{line}");
        goals.push(goal);
    }

    let per_client = (events / 500).div_ceil(INGEST_CLIENTS);
    println!(
        "ingest with Live pages open: {INGEST_CLIENTS} clients × {per_client} batches of 500 a run (as `bench \
         ingest`), {rounds} rounds, with and without pages alternated:"
    );
    let mut rates: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut pages_closed = 0;
    for round in 0..rounds {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for side in order {
            let mut pages = Vec::new();
            for viewer in viewers.iter().take(side * PAGES) {
                pages.push(Page::open(viewer, &base).await?);
            }
            let run = format!("t{side}-{round}-{}", now_ms());
            let work: Vec<_> = (0..INGEST_CLIENTS).map(|c| ingest::bodies(&run, c, per_client, 500, users)).collect();
            let outcome = ingest::run_case(&base, &key, work).await;
            if let Some(failure) = outcome.first_failure {
                eprintln!("  {} requests failed, the first: {failure}", outcome.failed);
            }
            rates[side].push(outcome.events as f64 / outcome.elapsed.as_secs_f64());
            pages_closed += pages.into_iter().map(Page::close).filter(|&closed_early| closed_early).count();
            // The closed streams' slots and subscriptions go before the next run.
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    println!("| Live pages open | events/s of each run | median events/s |\n|---|---|---|");
    for (side, pages) in [0, PAGES].into_iter().enumerate() {
        let each: Vec<String> = rates[side].iter().map(|r| format!("{r:.0}")).collect();
        println!("| {pages} | {} | {:.0} |", each.join(", "), median(&rates[side]));
    }
    let drop = (1.0 - median(&rates[1]) / median(&rates[0])) * 100.0;
    let closed =
        if pages_closed > 0 { format!("; {pages_closed} page streams CLOSED under the load") } else { "".into() };
    println!("ingest drop with {PAGES} Live pages open: {drop:.1} % (of the medians{closed})");
    goals.push(format!(
        "throughput with {PAGES} pages open at most {DROP_GOAL_PERCENT} % lower: {}",
        verdict(drop <= DROP_GOAL_PERCENT && pages_closed == 0)
    ));

    println!("{render}\n{reads}");
    goals.push(format!(
        "first render under {RENDER_GOAL_MS} ms at the 99th percentile: {} ({render_p99:.2} ms)",
        verdict(render_p99 < RENDER_GOAL_MS)
    ));
    println!("goals on {backend}:");
    for goal in goals {
        println!("  {goal}");
    }
    Ok(())
}
