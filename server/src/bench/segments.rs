//! `server bench segments`: the "New Segment" modal's search at scale.
//! Seeds the "Bench" app with N segments once (bulk insert, reused
//! on later runs), then times `segments::service::search`, what the server
//! function runs, for texts chosen to hit each part of the query.

use std::time::{Duration, Instant};

use anyhow::Context;
use app::segments::service;
use app::store::{Store, UserInput};
use app::time::now_ms;
use indicatif::{ProgressBar, ProgressStyle};

use super::summary;
use crate::config::Config;
use crate::web::open_store;

use super::BENCH_APP;
use super::WARM_UP;
const WORDS: &[&str] = &[
    "VIP",
    "Beta",
    "Churn",
    "Newsletter",
    "Lisbon",
    "Porto",
    "Berlin",
    "iOS",
    "Android",
    "Web",
    "Power",
    "Dormant",
    "Trial",
    "Premium",
    "Gold",
    "Silver",
    "Holiday",
    "Sports",
    "Music",
    "Gamers",
    "Parents",
    "Students",
    "Travel",
    "Foodies",
    "Weekend",
    "Night owls",
    "Early birds",
    "Coupon",
    "Loyalty",
    "Referral",
];
const SUFFIXES: &[&str] = &["users", "buyers", "testers", "fans", "cohort", "list", "audience", "group"];
const SEEDS_PER_CALL: usize = 10_000;

/// A realistic, unique name for the `i`th segment ("Lisbon fans 00042").
fn segment_name(i: usize) -> String {
    let word = WORDS[i % WORDS.len()];
    let suffix = SUFFIXES[(i / WORDS.len()) % SUFFIXES.len()];
    format!("{word} {suffix} {i:05}")
}

pub(crate) async fn seed(store: &Store, segments: usize) -> anyhow::Result<(i64, i64)> {
    let app_id = match store.app_by_name(BENCH_APP).await? {
        Some(app) => app.id,
        None => {
            let key = app::auth::api_key::hash(&app::auth::api_key::generate());
            store.create_app(BENCH_APP, &key, now_ms()).await?.id
        }
    };
    let user = UserInput { user_name: Some("Bench user"), email: None };
    let user_id = match store.user_by_external_id(app_id, "bench-user").await? {
        Some(user) => user.id,
        None => store.upsert_user(app_id, &"bench-user".parse()?, &user, now_ms()).await?.id,
    };
    let have = store.count_segments(app_id).await? as usize;
    if have >= segments {
        eprintln!("reusing app '{BENCH_APP}' with {have} segments");
        return Ok((app_id, user_id));
    }
    let progress = ProgressBar::new(segments as u64)
        .with_style(ProgressStyle::with_template("seeding [{bar:30}] {pos}/{len} segments").expect("template"));
    progress.set_position(have as u64);
    let started = Instant::now();
    for start in (have..segments).step_by(SEEDS_PER_CALL) {
        let names: Vec<String> = (start..(start + SEEDS_PER_CALL).min(segments)).map(segment_name).collect();
        store.bulk_insert_segments(app_id, &names, now_ms()).await?;
        progress.inc(names.len() as u64);
    }
    progress.finish();
    eprintln!("seeded {} segments in {:.1} s", segments - have, started.elapsed().as_secs_f64());
    // The user belongs to a few segments, so the `member` flags are looked up for real.
    let some: Vec<i64> = service::search(store, app_id, user_id, "vip").await?.matches.iter().map(|m| m.id).collect();
    service::add_as(store, app_id, user_id, &some[..5.min(some.len())], "bench").await?;
    Ok((app_id, user_id))
}

pub async fn segments(config: &Config, segments: usize, runs: usize) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let (app_id, user_id) = seed(&store, segments).await.context("seeding the bench app")?;
    let exact = segment_name(segments / 2);
    let cases = [
        ("'l' (one letter, prefix)", "l".to_string()),
        ("'vip' (common prefix)", "vip".to_string()),
        ("'fans' (common, contains only)", "fans".to_string()),
        ("'12345' (one name, past the window)", "12345".to_string()),
        ("'zzz' (no match)", "zzz".to_string()),
        ("exact name", exact),
    ];
    println!(
        "segment search on {} with {segments} segments, {runs} runs each after {WARM_UP} warm-up (up to 20 results):",
        store.backend_name()
    );
    for (label, text) in cases {
        let mut times: Vec<Duration> = Vec::with_capacity(runs);
        let mut found = (0, false);
        for run in 0..WARM_UP + runs {
            let started = Instant::now();
            let result = service::search(&store, app_id, user_id, &text).await?;
            if run >= WARM_UP {
                times.push(started.elapsed());
            }
            found = (result.matches.len(), result.exact);
        }
        println!("  {label:<36} {} ({} results, exact {})", summary(times), found.0, found.1);
    }
    Ok(())
}
