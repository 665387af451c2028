//! `server bench activity`: the profile's activity boxes for a user with many
//! events. Seeds one user of the "Bench" app and N events over the
//! last 30 days once (bulk insert, reused and topped up to the last hour on
//! later runs), then times the service calls the server functions make: the
//! last hour, a 30-day search page and its histogram.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::Context;
use app::activity::model::SearchParams;
use app::activity::service;
use app::model::devices::DeviceAttributes;
use app::store::{BulkEvent, DeviceInput, Store, UserInput};
use app::time::now_ms;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;
use crate::web::open_store;

use super::BENCH_APP;
const USER: &str = "bench-activity";
const DAY_MS: i64 = 86_400_000;
const SPAN_MS: i64 = 30 * DAY_MS;
/// Events per transaction while seeding.
const SEEDS_PER_CALL: usize = 50_000;
use super::WARM_UP;
pub(crate) const TYPES: &[&str] = &[
    "re.notifica.event.application.Open",
    "re.notifica.event.application.Close",
    "re.notifica.event.notification.Receive",
    "re.notifica.event.notification.Open",
    "re.notifica.event.region.Enter",
    "re.notifica.event.region.Exit",
    "custom.purchase",
    "custom.view_product",
    "custom.add_to_cart",
    "custom.search",
];

/// The `i`th seeded event, `at` its time.
fn event(i: usize, at: i64, user_id: i64, device_id: i64) -> BulkEvent {
    let event_type = TYPES[(i * 7) % TYPES.len()];
    BulkEvent {
        event_type: event_type.to_string(),
        user_id: Some(user_id),
        device_id: Some(device_id),
        occurred_at: at,
        data: Some(format!(r#"{{"screen":"s{}","product":"p{}","n":{i}}}"#, i % 40, (i * 31) % 5_000)),
    }
}

async fn bulk(store: &Store, app_id: i64, events: Vec<BulkEvent>, progress: &ProgressBar) -> anyhow::Result<()> {
    for chunk in events.chunks(SEEDS_PER_CALL) {
        store.bulk_insert_events(app_id, chunk, now_ms()).await?;
        progress.inc(chunk.len() as u64);
    }
    Ok(())
}

/// The bench app and user, with at least `events` events over the last 30
/// days and a last hour as busy as the average one.
pub(crate) async fn seed(store: &Store, events: usize) -> anyhow::Result<(i64, i64)> {
    let now = now_ms();
    let app_id = match store.app_by_name(BENCH_APP).await? {
        Some(app) => app.id,
        None => store.create_app(BENCH_APP, &app::auth::api_key::hash(&app::auth::api_key::generate()), now).await?.id,
    };
    let user = UserInput { user_name: Some("Activity bench user"), email: None };
    let user_id = store.upsert_user(app_id, &USER.parse()?, &user, now).await?.id;
    let device = DeviceInput {
        user_external_id: Some(USER.parse()?),
        attributes: DeviceAttributes {
            platform: "iOS".into(),
            device_string: Some("iPhone15,2".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let device_id = store.upsert_device(app_id, &format!("{USER}-phone").parse()?, &device, now).await?;
    let have = store.count_user_events(user_id).await? as usize;
    let style = ProgressStyle::with_template("seeding [{bar:30}] {pos}/{len} events ({eta})").expect("template");
    if have < events {
        let missing = events - have;
        let progress = ProgressBar::new(missing as u64).with_style(style.clone());
        let started = Instant::now();
        let step = SPAN_MS as f64 / missing as f64;
        let rows = (0..missing).map(|i| event(have + i, now - SPAN_MS + (i as f64 * step) as i64, user_id, device_id));
        bulk(store, app_id, rows.collect(), &progress).await?;
        progress.finish();
        eprintln!("seeded {missing} events in {:.1} s", started.elapsed().as_secs_f64());
    } else {
        eprintln!("reusing {have} events of {USER}");
    }
    // A reused seed has aged: give the last hour its share of events again.
    let per_hour = (events as i64 * 3_600_000 / SPAN_MS) as usize;
    let last_hour = store.recent_user_events(app_id, user_id, now - 3_600_000, per_hour as i64).await?.len();
    if last_hour < per_hour / 2 {
        let progress = ProgressBar::new(per_hour as u64).with_style(style);
        let rows = (0..per_hour)
            .map(|i| event(i, now - 3_600_000 + (i as i64 * 3_600_000 / per_hour as i64), user_id, device_id));
        bulk(store, app_id, rows.collect(), &progress).await?;
        progress.finish();
    }
    Ok((app_id, user_id))
}

/// Median, p95 and p99 in ms (nearest rank).
fn percentiles(mut times: Vec<Duration>) -> [f64; 3] {
    times.sort();
    let rank = |p: usize| times[((times.len() * p).div_ceil(100)).clamp(1, times.len()) - 1];
    [50, 95, 99].map(|p| rank(p).as_secs_f64() * 1000.0)
}

/// Runs `call` `WARM_UP` times, then `runs` times timed; the last result's
/// description with the times.
async fn time<F, Fut>(runs: usize, mut call: F) -> anyhow::Result<([f64; 3], String)>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<String>>,
{
    for _ in 0..WARM_UP {
        call().await?;
    }
    let (mut times, mut what) = (Vec::with_capacity(runs), String::new());
    for _ in 0..runs {
        let started = Instant::now();
        what = call().await?;
        times.push(started.elapsed());
    }
    Ok((percentiles(times), what))
}

pub async fn activity(config: &Config, events: usize, runs: usize) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let (app_id, user_id) = seed(&store, events).await.context("seeding the bench user")?;
    let store = &store;
    let period = |event_type: Option<&str>, text: Option<&str>| SearchParams {
        from: Some("30d".into()),
        event_type: event_type.map(Into::into),
        text: text.map(Into::into),
        ..Default::default()
    };
    let all = period(None, None);
    let typed = period(Some("custom.purchase"), None);
    let text = period(None, Some("\"p4242\""));
    let backend = store.backend_name();
    println!("activity of one user with {events} events over 30 days on {backend}, {runs} runs each after {WARM_UP} warm-up:");
    println!("| case | database | events | median | p95 | p99 | result |");
    println!("|---|---|---|---|---|---|---|");
    let cases: Vec<(&str, ([f64; 3], String))> = vec![
        (
            "last hour box",
            time(runs, || async { Ok(format!("{} events", service::recent(store, app_id, user_id).await?.len())) })
                .await?,
        ),
        (
            "30-day search, first page",
            time(runs, || async {
                let page = service::search(store, app_id, user_id, &all, None).await?;
                Ok(format!("{} events", page.events.len()))
            })
            .await?,
        ),
        (
            "30-day histogram",
            time(runs, || async {
                let h = service::histogram(store, app_id, user_id, &all).await?;
                Ok(format!("{} in {} bars", h.total(), h.counts.len()))
            })
            .await?,
        ),
        (
            "30-day search, one type, first page",
            time(runs, || async {
                Ok(format!("{} events", service::search(store, app_id, user_id, &typed, None).await?.events.len()))
            })
            .await?,
        ),
        (
            "30-day histogram, one type",
            time(runs, || async {
                Ok(format!("{} events", service::histogram(store, app_id, user_id, &typed).await?.total()))
            })
            .await?,
        ),
        (
            "30-day search, rare text, first page",
            time(runs, || async {
                let page = service::search(store, app_id, user_id, &text, None).await?;
                Ok(format!("{} events{}", page.events.len(), if page.partial { ", partial" } else { "" }))
            })
            .await?,
        ),
        (
            "event types of the app",
            time(runs, || async { Ok(format!("{} types", service::types(store, app_id).await?.len())) }).await?,
        ),
        (
            "unified timeline, first page",
            time(runs, || async {
                Ok(format!("{} entries", service::timeline(store, app_id, user_id, None).await?.entries.len()))
            })
            .await?,
        ),
    ];
    for (label, ([median, p95, p99], what)) in cases {
        println!("| {label} | {backend} | {events} | {median:.2} ms | {p95:.2} ms | {p99:.2} ms | {what} |");
    }
    Ok(())
}
