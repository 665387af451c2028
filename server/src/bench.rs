//! `server bench users-list`: the users list's server time at scale. Seeds a
//! "Bench" app with N users once (bulk insert), then times the first page
//! and searches through the same service the server function calls.
//! `server bench ingest` is in [`ingest`], `server bench segments` in
//! [`segments`], `server bench activity` in [`activity`], `server bench live`
//! in [`live`], `server bench live-app` in [`live_app`].

pub mod activity;
pub mod all;
pub mod dataset;
pub mod export;
pub mod ingest;
pub mod jobs;
pub mod live;
pub mod live_app;
pub mod merge;
pub mod profile;
pub mod properties;
mod report;
pub mod segments;
pub mod wasm;

use std::time::{Duration, Instant};

use anyhow::Context;
use app::model::{UserFilter, UserSort};
use app::store::{Budget, BulkUser, Store};
use app::time::now_ms;
use app::users::service::{users_page, PAGE_SIZE};
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::{BenchCommand, Config};
use crate::web::open_store;

/// Runs one `server bench` command.
pub async fn run(config: &Config, command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::UsersList { users, runs } => users_list(config, users, runs).await,
        BenchCommand::Properties { users, runs, ingest_users } => {
            self::properties::properties(config, users, runs, ingest_users).await
        }
        BenchCommand::Segments { segments, runs } => self::segments::segments(config, segments, runs).await,
        BenchCommand::Activity { events, runs } => self::activity::activity(config, events, runs).await,
        BenchCommand::Live { events } => self::live::live(config, events).await,
        BenchCommand::LiveApp { users, seconds, events, rounds, runs, scale } => {
            self::live_app::live_app(config, users, seconds, events, rounds, runs, scale).await
        }
        BenchCommand::Export { events } => self::export::export(config, events).await,
        BenchCommand::Jobs { users, again } => self::jobs::jobs(config, users, again).await,
        BenchCommand::Merge { events, runs } => self::merge::merge(config, events, runs).await,
        BenchCommand::Profile { events, runs } => self::profile::profile(config, events, runs).await,
        BenchCommand::Wasm => self::wasm::wasm(&config.site_root),
        BenchCommand::Seed { scale } => {
            let store = crate::web::open_store(config).await?;
            self::dataset::seed(&store, self::dataset::Scale::of(scale)).await.map(|_| ())
        }
        BenchCommand::All { sqlite, postgres, scale, repeat, out, only } => {
            self::all::all(&sqlite, &postgres, scale, repeat, &out, &only).await
        }
        BenchCommand::Ingest { users, events, singles } => self::ingest::ingest(config, users, events, singles).await,
    }
}

/// The one app every bench case seeds and reads (`bench seed` fills it whole).
pub(crate) const BENCH_APP: &str = "Bench";
const FIRST: &[&str] = &["Ana", "Bruno", "Carla", "Diogo", "Eva", "Filipe", "Gabriela", "Hugo", "Inês", "Jorge"];
const LAST: &[&str] = &["Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Martins"];

/// The "Bench" app with `users` users "bench-0000000"…, created or topped up.
pub(crate) async fn seed(store: &Store, users: usize) -> anyhow::Result<i64> {
    let now = now_ms();
    let app_id = match store.app_by_name(BENCH_APP).await? {
        Some(app) => app.id,
        None => store.create_app(BENCH_APP, &app::auth::api_key::hash(&app::auth::api_key::generate()), now).await?.id,
    };
    // Batches commit in order, so the users there are a prefix: find its end.
    let exists = |i: usize| async move { store.user_by_external_id(app_id, &bench_user(i)).await };
    let (mut low, mut high) = (0, users);
    while low < high {
        let mid = (low + high) / 2;
        if exists(mid).await?.is_some() {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    let have = low;
    if have == users {
        eprintln!("reusing app '{BENCH_APP}' with {users} bench users");
        return Ok(app_id);
    }
    let progress = ProgressBar::new(users as u64).with_style(
        ProgressStyle::with_template("{msg:>12} [{bar:30}] {human_pos}/{human_len} {per_sec} ETA {eta}")
            .expect("template"),
    );
    progress.set_message("users");
    progress.set_position(have as u64);
    let started = Instant::now();
    for start in (have..users).step_by(10_000) {
        let batch: Vec<BulkUser> = (start..(start + 10_000).min(users))
            .map(|i| {
                let (first, last) = (FIRST[i % FIRST.len()], LAST[(i / FIRST.len()) % LAST.len()]);
                BulkUser {
                    external_id: bench_user(i),
                    user_name: Some(format!("{first} {last} {i}")),
                    email: (i % 5 != 0).then(|| format!("user{i}@example.com")),
                    created_at: now - (users - i) as i64 * 1_000,
                    last_seen_at: (i % 3 != 0).then(|| now - ((i * 7919) % 1_000_000) as i64 * 1_000),
                }
            })
            .collect();
        store.bulk_insert_users(app_id, &batch).await?;
        progress.inc(batch.len() as u64);
    }
    progress.finish();
    eprintln!("seeded {} users in {:.1} s", users - have, started.elapsed().as_secs_f64());
    Ok(app_id)
}

/// The `i`th bench user's userID.
fn bench_user(i: usize) -> String {
    format!("bench-{i:07}")
}

/// The first page as the browser ends up showing it: the server's answer,
/// and while that is partial, the rest asked for from where it stopped.
/// Returns the page and how many answers it took.
pub(crate) async fn complete_first_page(
    store: &Store,
    app_id: i64,
    filter: &UserFilter,
) -> anyhow::Result<(app::model::UsersPage, usize)> {
    let mut page = users_page(store, app_id, filter, None, PAGE_SIZE).await?;
    let mut answers = 1;
    while page.partial {
        let Some(cursor) = page.next_cursor.clone() else { break };
        let more = users_page(store, app_id, filter, Some(&cursor), PAGE_SIZE - page.users.len() as i64).await?;
        page.users.extend(more.users);
        (page.partial, page.next_cursor) = (more.partial, more.next_cursor);
        answers += 1;
    }
    Ok((page, answers))
}

/// Untimed runs of each case before the timed ones, in every bench: the
/// first runs open files and fill caches, and PostgreSQL plans a statement
/// anew for its first runs on each pool connection.
pub(crate) const WARM_UP: usize = 5;

/// Median, p95 and p99 (the nearest rank: with 20 runs p99 is the maximum).
pub(crate) fn summary(mut times: Vec<Duration>) -> String {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let rank = |p: usize| times[((times.len() * p).div_ceil(100)).clamp(1, times.len()) - 1];
    format!("median {:.2} ms, p95 {:.2} ms, p99 {:.2} ms", ms(rank(50)), ms(rank(95)), ms(rank(99)))
}

pub async fn users_list(config: &Config, users: usize, runs: usize) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let app_id = seed(&store, users).await.context("seeding the bench app")?;
    // What autovacuum does in time after a load (statistics, the visibility
    // map index-only scans rely on): without it, the first cases after a
    // fresh seed are timed against a table in mid-vacuum.
    store.settle().await?;
    let search = |search: &str, sort| UserFilter { search: search.into(), sort, ..Default::default() };
    let cases = [
        ("first page, last activity", search("", UserSort::LastActivity)),
        ("first page, by name", search("", UserSort::Name)),
        ("first page, created", search("", UserSort::Created)),
        ("'ana' (10% of users), last activity", search("ana", UserSort::LastActivity)),
        ("'ana', by name", search("ana", UserSort::Name)),
        ("'carla' (10%, mid-list), by name", search("carla", UserSort::Name)),
        ("'carla pereira' (1.25%), last activity", search("carla pereira", UserSort::LastActivity)),
        ("'carla pereira', by name", search("carla pereira", UserSort::Name)),
        ("'bench-05' (10%, mid-list), created", search("bench-05", UserSort::Created)),
        ("'a' (one letter), by name", search("a", UserSort::Name)),
        // 800k entries over 800k tokens, none in the first 100k by name.
        ("'u' (80%, all past the walk), by name", search("u", UserSort::Name)),
        ("'u', last activity", search("u", UserSort::LastActivity)),
        ("'ines' (accents folded), by name", search("ines", UserSort::Name)),
        ("'INÊS SANTOS', last activity", search("INÊS SANTOS", UserSort::LastActivity)),
        // Two broad words that never meet: every merge read is wasted.
        ("'ana bruno' (no match), by name", search("ana bruno", UserSort::Name)),
        ("'ana user1' (no match), created", search("ana user1", UserSort::Created)),
        ("'user12345' (11 users), created", search("user12345", UserSort::Created)),
        ("one userID, last activity", search("bench-0123456", UserSort::LastActivity)),
    ];
    println!(
        "users list on {} with {users} users, {runs} runs each after {WARM_UP} warm-up (page of {PAGE_SIZE}, with \
         total count; a run is every answer the browser needs for a complete first page):",
        store.backend_name()
    );
    let reference = store.brute_force(app_id).await?;
    let mut incomplete = 0;
    for (label, filter) in cases {
        let (expected, matches) = reference.first_page(&filter, PAGE_SIZE as usize);
        let mut times = Vec::with_capacity(runs);
        let (mut shown, mut answers, mut counted) = (Vec::new(), 0, String::new());
        for run in 0..WARM_UP + runs {
            let started = Instant::now();
            let (page, asked) = complete_first_page(&store, app_id, &filter).await?;
            if run >= WARM_UP {
                times.push(started.elapsed());
            }
            counted = page.count_label().unwrap_or("not counted".into());
            shown = page.users.iter().map(|u| u.id).collect::<Vec<i64>>();
            answers = asked;
        }
        let strategy = store.explain_search(app_id, &filter, None, Budget::default()).await?;
        let strategy = strategy.split(' ').next().unwrap_or_default();
        let verdict = if shown == expected {
            "complete"
        } else {
            incomplete += 1;
            "INCOMPLETE"
        };
        let answers = if answers == 1 { String::new() } else { format!(", {answers} answers") };
        println!(
            "  {label:<40} {} ({}/{} shown of {matches} matches, {verdict}; {counted}; {strategy}{answers})",
            summary(times),
            shown.len(),
            expected.len()
        );
    }
    if incomplete > 0 {
        println!("{incomplete} cases INCOMPLETE: their first page differs from the brute force's");
    }
    Ok(())
}
