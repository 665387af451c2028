//! `server bench merge`: merging a user with many events, and ingest
//! through a merged userID. Each run makes an app of its own (an earlier
//! run's is removed first) with a user of `--events` events over 30 days
//! and a kept user of a thousand, then, `--runs` times, merges the first
//! into the second and undoes the merge (both timed, one transaction
//! each, on a settled database). Then it ingests batches of 500 events
//! naming the kept user by its own userID and by the merged one (an
//! alias), alternating, and compares their median batches.

use std::time::{Duration, Instant};

use anyhow::Context;
use app::store::{EventInput, Store, UserInput};
use app::time::now_ms;

use super::summary;
use crate::config::Config;
use crate::web::open_store;

const APP_PREFIX: &str = "bench-merge-";
const BATCH: usize = 5_000;
const INGEST_BATCH: usize = 500;
const INGEST_ROUNDS: usize = 200;

fn events_of(user: &str, count: usize, from: i64, span: i64) -> Vec<EventInput> {
    (0..count)
        .map(|i| EventInput {
            client_id: None,
            event_type: ["screen.view", "tap", "purchase"][i % 3].into(),
            user_external_id: Some(user.parse().expect("a bench userID")),
            device_external_id: None,
            session_id: None,
            occurred_at: from + (i as i64 * span) / count.max(1) as i64,
            data: Some(format!("{{\"n\":{i}}}")),
        })
        .collect()
}

async fn insert(store: &Store, app: i64, events: &[EventInput]) -> anyhow::Result<()> {
    for chunk in events.chunks(BATCH) {
        store.insert_events(app, chunk, now_ms()).await?;
    }
    Ok(())
}

pub async fn merge(config: &Config, events: usize, runs: usize) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    for app in store.list_apps().await?.into_iter().filter(|app| app.name.starts_with(APP_PREFIX)) {
        let rows = store.delete_imported_app(app.id).await?;
        eprintln!("removed an earlier run's app {} ({rows} rows)", app.name);
    }
    let now = now_ms();
    let app = store.create_app(&format!("{APP_PREFIX}{now}"), &format!("bench-merge-{now}"), now).await?.id;
    let month = 30 * 24 * 3_600_000;
    let named = |name: &'static str| UserInput { user_name: Some(name), email: None };
    let old = store.upsert_user(app, &"merge-old".parse()?, &named("Old"), now).await?.id;
    let kept = store.upsert_user(app, &"merge-kept".parse()?, &named("Kept"), now).await?.id;
    insert(&store, app, &events_of("merge-old", events, now - month, month)).await?;
    insert(&store, app, &events_of("merge-kept", 1_000, now - month, month)).await?;
    store.settle().await?;

    let (mut merges, mut undos) = (Vec::new(), Vec::new());
    // Each merge and undo rewrites every one of the user's event rows: each
    // is timed on a settled database (a merge is a rare act, and the
    // autovacuum catches up between two in production), not on the dead
    // rows of the one before.
    for _ in 0..runs.max(1) {
        store.settle().await?;
        let began = Instant::now();
        let merge = store.merge_users(app, (old, kept), &[], "bench", now_ms()).await?;
        merges.push(began.elapsed());
        anyhow::ensure!(merge.moved.events == events as i64, "the merge moved {} events", merge.moved.events);
        store.settle().await?;
        let began = Instant::now();
        store.undo_merge(app, merge.id, "bench", now_ms()).await?;
        undos.push(began.elapsed());
    }
    println!("merge of a user with {events} events: {}", summary(merges));
    println!("undo of that merge: {}", summary(undos));

    // Ingest naming the kept user directly, and through the alias.
    let merge = store.merge_users(app, (old, kept), &[], "bench", now_ms()).await?;
    let (mut direct, mut aliased) = (Vec::new(), Vec::new());
    for round in 0..INGEST_ROUNDS {
        for (name, times) in [("merge-kept", &mut direct), ("merge-old", &mut aliased)] {
            let batch = events_of(name, INGEST_BATCH, now_ms() - 1_000 - round as i64, 1_000);
            let began = Instant::now();
            store.insert_events(app, &batch, now_ms()).await?;
            times.push(began.elapsed());
        }
    }
    // The median batch of each side: a checkpoint or an autovacuum landing
    // on a few batches of one side says nothing about the alias.
    let median = |mut times: Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    let (direct, aliased) = (median(direct), median(aliased));
    let rate = |batch: Duration| INGEST_BATCH as f64 / batch.as_secs_f64();
    // The cost: how much longer a batch takes through the alias.
    println!(
        "ingest cost through a merged userID: {:.1} % (median batch of {INGEST_BATCH}: {:.0} events/s by the userID, {:.0} by the merged userID)",
        (aliased.as_secs_f64() / direct.as_secs_f64() - 1.0) * 100.0,
        rate(direct),
        rate(aliased)
    );
    store.undo_merge(app, merge.id, "bench", now_ms()).await.context("the last undo")?;
    Ok(())
}
