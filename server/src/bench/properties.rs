//! `server bench properties`: user properties at scale. The bench app's
//! users ("bench-0000000"…, the users list bench's) get 20 properties each
//! (19 for a tenth), generated from the user's number, bulk loaded once.
//! Then:
//! - the users list's property filters, selective and broad, alone and with
//!   a search, in three orders: a complete first page with its count, each
//!   compared with a brute force that evaluates the filter from how the
//!   values were generated (INCOMPLETE when they differ);
//! - the profile's Properties box (the user's properties, as the profile's
//!   server function reads them);
//! - the properties ingest route over HTTP (`POST /api/v1/users/properties`,
//!   batches of 1,000 users with 5 properties each, 4 clients), first setting
//!   then changing every value (each change with its history row).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use app::model::properties::PropertyValue;
use app::model::property_filter::{PropertyFilter, PropertyOp};
use app::model::{UserFilter, UserSort};
use app::time::now_ms;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};

use super::ingest::start_server;
use super::{complete_first_page, summary, WARM_UP};
use crate::config::Config;
use crate::web::open_store;

const DAY_MS: i64 = 86_400_000;
const PLANS: [&str; 10] = ["free", "free", "free", "pro", "pro", "free", "team", "free", "free", "pro"];
const COUNTRIES: [&str; 20] = [
    "PT", "ES", "FR", "DE", "IT", "NL", "BE", "IE", "GB", "US", "CA", "BR", "MX", "AR", "JP", "KR", "IN", "AU", "NZ",
    "ZA",
];
/// Users per ingest request.
const BATCH: usize = 1_000;
const CLIENTS: usize = 4;

/// A number below `n` unrelated to the user's place in any list order
/// (names and creation follow `i`): a multiplicative hash of `i`, salted.
fn mixed(i: usize, salt: u64, n: usize) -> usize {
    ((i as u64 ^ salt).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize % n
}

/// The properties of bench user `i`, relative to `epoch` (the dataset's
/// fixed day, so a reseed gives the same values). `cohort` follows the
/// user's first name on purpose: the list's worst case, a broad filter
/// with no match in the first tenth of the name order.
fn properties_of(i: usize, epoch: i64) -> Vec<(String, PropertyValue)> {
    let text = |s: String| PropertyValue::String(s);
    let mut props = vec![
        ("plan".to_string(), text(PLANS[mixed(i, 1, 10)].into())),
        ("cohort".to_string(), text(if i.is_multiple_of(10) { "a" } else { "b" }.into())),
        ("tier".to_string(), text(format!("t{:04}", i % 1000))),
        ("country".to_string(), text(COUNTRIES[mixed(i, 2, 20)].into())),
        ("seats".to_string(), PropertyValue::Number((i % 500) as f64)),
        ("signup".to_string(), PropertyValue::Date(epoch - ((i * 7) % 365) as i64 * DAY_MS)),
        ("beta".to_string(), PropertyValue::Boolean(mixed(i, 3, 2) == 0)),
    ];
    if mixed(i, 4, 10) != 0 {
        props.push(("referrer".to_string(), text(format!("site{}", i % 37))));
    }
    for k in 8..=19 {
        props.push((format!("p{k:02}"), text(format!("v{}", (i * k) % 97))));
    }
    props
}

/// The dataset's fixed day: 2026-01-01.
const EPOCH: i64 = 1_767_225_600_000;

/// Whether bench user `i` (`None`: one of the app's other users, who hold
/// no properties) meets `f`, from how its values were generated.
fn meets(i: Option<usize>, f: &PropertyFilter) -> bool {
    let value = i.and_then(|i| properties_of(i, EPOCH).into_iter().find(|(name, _)| *name == f.name).map(|(_, v)| v));
    let as_number = |v: &PropertyValue| match v {
        PropertyValue::Number(n) => Some(*n),
        PropertyValue::Date(ms) => Some(*ms as f64),
        _ => None,
    };
    let bound = || {
        f.value.parse::<f64>().ok().unwrap_or_else(|| {
            let day = chrono::NaiveDate::parse_from_str(&f.value, "%Y-%m-%d").expect("a number or a day");
            day.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp_millis() as f64
        })
    };
    let is = |v: &PropertyValue| match v {
        PropertyValue::String(s) => *s == f.value,
        PropertyValue::Boolean(b) => b.to_string() == f.value,
        other => as_number(other).is_some_and(|n| f.value.parse::<f64>() == Ok(n)),
    };
    match f.op {
        PropertyOp::Is => value.as_ref().is_some_and(is),
        PropertyOp::IsNot => !value.as_ref().is_some_and(is),
        PropertyOp::Exists => value.is_some(),
        PropertyOp::Missing => value.is_none(),
        // The cases compare numbers, and dates with a whole day.
        PropertyOp::Less => value.as_ref().and_then(as_number).is_some_and(|n| n < bound()),
        PropertyOp::Greater => value.as_ref().and_then(as_number).is_some_and(|n| {
            let day_end = if f.value.contains('-') { bound() + DAY_MS as f64 - 1.0 } else { bound() };
            n > day_end
        }),
    }
}

fn filter(name: &str, op: PropertyOp, value: &str) -> PropertyFilter {
    PropertyFilter { name: name.into(), op, value: value.into() }
}

pub async fn properties(config: &Config, users: usize, runs: usize, ingest_users: usize) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let app_id = super::seed(&store, users).await.context("seeding the bench users")?;
    let ids = store.user_ids_with_prefix(app_id, "bench-").await?;
    anyhow::ensure!(ids.len() >= users, "the bench app holds {} bench users, not {users}", ids.len());
    let ids = &ids[..users];
    seed_properties(&store, app_id, ids).await?;
    let index_of: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();

    use PropertyOp::*;
    let with = |properties: Vec<PropertyFilter>, search: &str, sort| UserFilter {
        search: search.into(),
        sort,
        properties,
        ..Default::default()
    };
    let cases = [
        ("tier=t0042 (0.1%), by name", with(vec![filter("tier", Is, "t0042")], "", UserSort::Name)),
        ("tier=t0042, last activity", with(vec![filter("tier", Is, "t0042")], "", UserSort::LastActivity)),
        ("plan=pro (30%), last activity", with(vec![filter("plan", Is, "pro")], "", UserSort::LastActivity)),
        ("plan=pro, by name", with(vec![filter("plan", Is, "pro")], "", UserSort::Name)),
        ("plan:not=free (40%), created", with(vec![filter("plan", IsNot, "free")], "", UserSort::Created)),
        ("seats:gt=495 (0.8%), created", with(vec![filter("seats", Greater, "495")], "", UserSort::Created)),
        ("referrer:missing (10%), by name", with(vec![filter("referrer", Missing, "")], "", UserSort::Name)),
        ("country=PT (5%), by name", with(vec![filter("country", Is, "PT")], "", UserSort::Name)),
        ("country=PT + 'ana', by name", with(vec![filter("country", Is, "PT")], "ana", UserSort::Name)),
        (
            "worst case: cohort=b (90%, none in the first 10% by name)",
            with(vec![filter("cohort", Is, "b")], "", UserSort::Name),
        ),
        (
            "worst case: country=PT + 'ana' (0.5%), last activity",
            with(vec![filter("country", Is, "PT")], "ana", UserSort::LastActivity),
        ),
        (
            "signup:gt=2025-12-01 (8%), last activity",
            with(vec![filter("signup", Greater, "2025-12-01")], "", UserSort::LastActivity),
        ),
        (
            "beta=true + tier=t0042, by name",
            with(vec![filter("beta", Is, "true"), filter("tier", Is, "t0042")], "", UserSort::Name),
        ),
    ];
    println!(
        "users list property filters on {} with {users} users × 20 properties, {runs} runs each after {WARM_UP} \
         warm-up (a complete first page of 50 with its count):",
        store.backend_name()
    );
    let reference = store.brute_force(app_id).await?;
    let mut incomplete = 0;
    for (label, f) in cases {
        let keep = |id: i64| f.properties.iter().all(|p| meets(index_of.get(&id).copied(), p));
        let (expected, matches) = reference.first_page_where(&f, 50, keep);
        let mut times = Vec::with_capacity(runs);
        let (mut shown, mut counted) = (Vec::new(), String::new());
        for run in 0..WARM_UP + runs {
            let started = Instant::now();
            let (page, _) = complete_first_page(&store, app_id, &f).await?;
            if run >= WARM_UP {
                times.push(started.elapsed());
            }
            counted = page.count_label().unwrap_or("not counted".into());
            shown = page.users.iter().map(|u| u.id).collect::<Vec<i64>>();
        }
        let plan = store.explain_search(app_id, &f, None, app::store::Budget::default()).await?;
        let verdict = if shown == expected {
            "complete"
        } else {
            incomplete += 1;
            "INCOMPLETE"
        };
        println!("  {label:<44} {} ({matches} matches, {verdict}; {counted}; {plan})", summary(times));
    }
    if incomplete > 0 {
        println!("{incomplete} cases INCOMPLETE: their first page differs from the brute force's");
    }

    let mut times = Vec::with_capacity(runs * 10);
    for run in 0..WARM_UP + runs * 10 {
        let user = ids[(run * 7919) % ids.len()];
        let started = Instant::now();
        let props = app::properties::service::properties(&store, app_id, user).await?;
        if run >= WARM_UP {
            times.push(started.elapsed());
        }
        anyhow::ensure!(props.len() >= 19, "user {user} holds {} properties", props.len());
    }
    println!("Properties box (a user's 20 properties): {}", summary(times));
    store.close().await;

    ingest(config, ingest_users).await
}

/// Loads the properties of every user of `ids` (the `i`th bench user first)
/// that has none yet; a second run reuses them.
async fn seed_properties(store: &app::store::Store, app_id: i64, ids: &[i64]) -> anyhow::Result<()> {
    // A dataset of an older generator is loaded anew.
    let first: Vec<(String, PropertyValue)> =
        store.properties_of(ids[0]).await?.into_iter().map(|p| (p.name, p.value)).collect();
    let mut expected = properties_of(0, EPOCH);
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    if !first.is_empty() && first != expected {
        eprintln!("the properties were made by another generator: deleting them");
        store.delete_app_properties(app_id).await?;
    }
    // Batches commit in order, so the users with properties are a prefix.
    let (mut low, mut high) = (0, ids.len());
    while low < high {
        let mid = (low + high) / 2;
        if store.properties_of(ids[mid]).await?.is_empty() {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    if low == ids.len() {
        eprintln!("reusing the properties of {} users", ids.len());
        return Ok(());
    }
    let style = ProgressStyle::with_template("{msg:>12} [{bar:30}] {human_pos}/{human_len} {per_sec} ETA {eta}")?;
    let progress = ProgressBar::new(ids.len() as u64).with_style(style).with_message("properties");
    progress.set_position(low as u64);
    let now = now_ms();
    for start in (low..ids.len()).step_by(2_500) {
        let rows: Vec<(i64, String, PropertyValue)> = (start..(start + 2_500).min(ids.len()))
            .flat_map(|i| properties_of(i, EPOCH).into_iter().map(move |(name, value)| (ids[i], name, value)))
            .collect();
        store.bulk_insert_properties(app_id, &rows, now).await?;
        progress.set_position((start + 2_500).min(ids.len()) as u64);
    }
    progress.finish();
    store.settle().await?;
    Ok(())
}

/// The properties ingest route: `users` users' properties set, then every
/// value changed, in batches of [`BATCH`] from [`CLIENTS`] clients.
async fn ingest(config: &Config, users: usize) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let (_, key) = super::ingest::seed(&store, users).await.context("seeding the ingest app")?;
    store.close().await;
    let (_server, base) = start_server(config).await?;
    println!("properties ingest over HTTP ({CLIENTS} clients, batches of {BATCH} users × 5 properties):");
    for (round, label) in ["set (new properties)", "changed (each value, with its history)"].iter().enumerate() {
        let bodies: Vec<Vec<u8>> = (0..users.div_ceil(BATCH))
            .map(|b| {
                let batch: Vec<Value> = (b * BATCH..((b + 1) * BATCH).min(users))
                    .map(|i| {
                        json!({"userID": format!("u-{i}"), "properties": {
                            "plan": PLANS[(i + round) % 10], "seats": i + round, "beta": (i + round) % 2 == 0,
                            "signup": "2026-01-02T03:04:05Z", "source": format!("s{}", (i + round) % 13),
                        }})
                    })
                    .collect();
                serde_json::to_vec(&batch).expect("JSON")
            })
            .collect();
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for client in 0..CLIENTS {
            let mine: Vec<Vec<u8>> = bodies.iter().skip(client).step_by(CLIENTS).cloned().collect();
            let (url, key) = (format!("{base}/api/v1/users/properties"), key.clone());
            tasks.spawn(async move {
                let http = reqwest::Client::new();
                let mut latencies = Vec::new();
                for body in mine {
                    let sent = Instant::now();
                    let response = http
                        .post(&url)
                        .bearer_auth(&key)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await?;
                    let status = response.status();
                    let text = response.text().await?;
                    anyhow::ensure!(status.is_success(), "{url} answered {status}: {text}");
                    latencies.push(sent.elapsed());
                }
                Ok::<Vec<Duration>, anyhow::Error>(latencies)
            });
        }
        let mut latencies = Vec::new();
        while let Some(done) = tasks.join_next().await {
            latencies.extend(done??);
        }
        let elapsed = started.elapsed().as_secs_f64();
        println!(
            "  {label:<40} {:.0} users/s ({users} users in {elapsed:.1} s; per request {})",
            users as f64 / elapsed,
            summary(latencies)
        );
    }
    Ok(())
}
