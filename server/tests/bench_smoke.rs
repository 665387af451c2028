//! The bench at a tiny scale, as CI's smoke test: the dataset generator
//! seeds every table on both databases with the shape it promises, and
//! `server bench all` runs every case against the real binary and writes
//! the table. Figures are not judged here (a debug build on a busy CI
//! machine); the full run is `server bench all` (docs/BENCHMARKS.md).

use app::store::testing::TestDatabase;
use app::store::Store;
use server::bench::dataset::{seed, Scale};

/// Seeds `scale` into `store` twice (the second run must reuse it all).
async fn seeded_twice(store: &Store) {
    let scale = Scale::of(0.0001);
    let app_id = seed(store, scale).await.expect("seed");
    let [devices, locations, members, messages] = store.dataset_counts(app_id).await.unwrap();
    assert_eq!(devices, 2 * scale.users as i64 + 1, "two per bench user, and the heaviest user's phone");
    assert!(locations > 0, "some devices have trails");
    // One segment for every user, a second for most even ones, up to five for the search bench's user.
    let one_and_a_half = (scale.users + scale.users / 2) as i64;
    assert!((one_and_a_half - 5..=one_and_a_half + 5).contains(&members), "{members} memberships");
    assert_eq!(messages, scale.users as i64 / 10);
    assert_eq!(store.count_events(app_id).await.unwrap(), scale.events as i64);
    let heaviest = store.user_by_external_id(app_id, "bench-activity").await.unwrap().expect("the heaviest user");
    assert!(store.count_user_events(heaviest.id).await.unwrap() >= scale.heaviest as i64);
    // A second user has a hundredth of all events: the skew is there.
    let heavy = store.user_by_external_id(app_id, "bench-0000001").await.unwrap().unwrap();
    assert!(store.count_user_events(heavy.id).await.unwrap() >= (scale.events / 100) as i64 * 95 / 100);

    seed(store, scale).await.expect("reseed");
    assert_eq!(store.dataset_counts(app_id).await.unwrap(), [devices, locations, members, messages]);
    assert_eq!(store.count_events(app_id).await.unwrap(), scale.events as i64);
}

#[tokio::test]
async fn the_dataset_has_its_shape_and_is_reused() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::connect(&format!("sqlite://{}/seed.db", dir.path().display())).await.unwrap();
    seeded_twice(&sqlite).await;
    let Some(database) = TestDatabase::create().await else { return };
    let postgres = Store::connect(&database.url).await.unwrap();
    seeded_twice(&postgres).await;
    postgres.close().await;
    database.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_all_runs_every_case_on_both_databases_and_writes_the_table() {
    let Some(database) = TestDatabase::create().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("BENCHMARKS.md");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_server"));
    command
        .current_dir(root)
        .args(["bench", "all", "--scale", "0.0001", "--repeat", "2", "--postgres", &database.url, "--out"])
        .arg(&out)
        .arg("--sqlite")
        .arg(format!("sqlite://{}/bench.db", dir.path().display()))
        .env("SMTP_PORT", "0");
    let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "bench all failed:\n{}", &stderr[stderr.len().saturating_sub(4000)..]);
    let table = std::fs::read_to_string(&out).unwrap();
    println!("{table}");
    for case in [
        "Users list and searches",
        "Profile page: server render",
        "Segment search",
        "Profile boxes at many events",
        "Event histogram",
        "Live latency",
        "Live page latency",
        "Ingest with 5 Live pages open",
        "Live page first render",
        "Ingest throughput",
        "Users list property filters",
        "Properties box",
        "Properties ingest",
        "CSV import of 1,000,000 users",
        "Server memory growth during the import",
        "Add to segment over every user",
        "Profile render while a job runs",
        "Export of the heaviest user",
    ] {
        let row = table.lines().find(|l| l.starts_with(&format!("| {case}"))).unwrap_or_else(|| panic!("{case}"));
        // Both databases judged, from figures in the output (not "no timed line").
        assert_eq!(row.matches("**met**").count() + row.matches("**missed**").count(), 2, "{row}");
        assert!(
            !row.contains("no timed line")
                && !row.contains("no 4 × 500")
                && !row.contains("no export")
                && !row.contains("in the output"),
            "{row}"
        );
        // Each figure is the median of the suite's two runs.
        assert_eq!(row.matches("median of 2 runs").count(), 2, "{row}");
    }
    assert!(table.contains("### SQLite (run ") && table.contains("### PostgreSQL (run "));
    database.finish().await;
}
