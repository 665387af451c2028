//! `server bench all`: every bench case on SQLite and on PostgreSQL in one
//! run, written to `docs/BENCHMARKS.md`. It runs this binary's own bench
//! subcommands as child processes (each with its `DATABASE_URL`), keeps
//! their tables, and puts a summary in front: each target with the worst
//! figure per database, marked **met** or **missed**. The figures are
//! parsed from the cases' own output, so what the summary says is what the
//! tables below it show.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;

use anyhow::Context;

use super::report::Report;

/// One bench subcommand and the target its output is judged by.
struct Case {
    title: &'static str,
    args: Vec<String>,
    target: Target,
}

/// What a case must show, read from its output.
#[derive(Clone, Copy)]
enum Target {
    /// Every timed line's p99 under `ms`: the lines that contain
    /// `include` (all when `None`) and not `exclude`.
    P99Below { ms: f64, include: Option<&'static str>, exclude: Option<&'static str>, label: &'static str },
    /// Events/s of the best ingest row of batches of 500 (1, 4 or 16
    /// clients: what the server sustains when clients keep it busy) at
    /// least this.
    IngestAtLeast { sqlite: f64, postgres: f64 },
    /// Anonymous memory growth of each export under `mb`.
    ExportHeapBelow { mb: f64 },
    /// The percentage on the line that starts with `line` at most `percent`.
    DropAtMost { percent: f64, line: &'static str, label: &'static str },
    /// The lowest "N users/s" of the lines that contain `include` at least this.
    UsersPerSecondAtLeast { per_sec: f64, include: &'static str, label: &'static str },
    /// The megabytes on the line that starts with `line` under `mb`.
    MegabytesBelow { mb: f64, line: &'static str, label: &'static str },
}

/// What one run of a case shows: the number its target is judged by, and
/// how it reads in the summary.
#[derive(Debug, Clone)]
struct Figure {
    value: f64,
    text: String,
}

/// A case's verdict on one database, over every run of the suite.
struct Verdict {
    figure: String,
    met: bool,
}

fn number_before(text: &str, unit: &str) -> Option<f64> {
    let end = text.find(unit)?;
    let start = text[..end].trim_end().rfind(|c: char| !(c.is_ascii_digit() || c == '.')).map_or(0, |i| i + 1);
    text[start..end].trim().parse().ok()
}

/// The p99 of one output line: "… p99 12.34 ms …" or a markdown row whose
/// sixth cell is the p99 ("| label | db | n | median | p95 | p99 | … |").
fn p99_of(line: &str) -> Option<f64> {
    if let Some(at) = line.find("p99 ") {
        return number_before(&line[at + 4..], " ms");
    }
    let cells: Vec<&str> = line.split('|').map(str::trim).collect();
    if cells.len() > 7 && cells[6].ends_with("ms") {
        return number_before(cells[6], "ms");
    }
    None
}

impl Target {
    /// Whether `value` (of [`Target::figure`]) meets the target.
    fn met(self, value: f64, postgres: bool) -> bool {
        match self {
            Target::P99Below { ms, .. } => value < ms,
            Target::IngestAtLeast { sqlite, postgres: pg } => value >= if postgres { pg } else { sqlite },
            Target::ExportHeapBelow { mb } => value < mb,
            Target::DropAtMost { percent, .. } => value <= percent,
            Target::UsersPerSecondAtLeast { per_sec, .. } => value >= per_sec,
            Target::MegabytesBelow { mb, .. } => value < mb,
        }
    }

    /// Higher figures are better (throughput) rather than lower (times, memory).
    fn higher_is_better(self) -> bool {
        matches!(self, Target::IngestAtLeast { .. } | Target::UsersPerSecondAtLeast { .. })
    }

    /// The figure one run's output shows, or why there is none.
    fn figure(self, output: &str, postgres: bool) -> Result<Figure, String> {
        match self {
            // A users-list case whose first page is not the brute force's
            // fails the case whatever its time.
            Target::P99Below { .. } if output.contains("INCOMPLETE") => Err(format!(
                "incomplete: {}",
                output.lines().find(|l| l.contains("INCOMPLETE")).unwrap_or_default().trim()
            )),
            Target::P99Below { ms, include, exclude, label } => output
                .lines()
                .filter(|l| include.is_none_or(|i| l.contains(i)) && exclude.is_none_or(|e| !l.contains(e)))
                .filter_map(p99_of)
                .fold(None, |worst: Option<f64>, p| Some(worst.map_or(p, |w| w.max(p))))
                .map(|p| Figure { value: p, text: format!("{label} p99 {p:.2} ms (goal < {ms} ms)") })
                .ok_or_else(|| "no timed line in the output".into()),
            Target::IngestAtLeast { sqlite, postgres: pg } => {
                let goal = if postgres { pg } else { sqlite };
                // (clients, events/s) of each batches-of-500 row.
                let rows: Vec<(u32, f64)> = output
                    .lines()
                    .filter(|l| l.split('|').nth(2).is_some_and(|c| c.trim() == "500"))
                    .filter_map(|l| {
                        let cell = |n: usize| l.split('|').nth(n).map(str::trim);
                        Some((cell(1)?.parse().ok()?, cell(4)?.parse().ok()?))
                    })
                    .collect();
                let (clients, rate) = rows
                    .iter()
                    .copied()
                    .max_by(|a, b| a.1.total_cmp(&b.1))
                    .ok_or("no row of batches of 500 in the output")?;
                let all: Vec<String> = rows.iter().map(|(c, r)| format!("{c}: {r:.0}")).collect();
                let text = format!(
                    "best {clients} clients × 500: {rate:.0} events/s (clients: {}) (goal ≥ {goal:.0})",
                    all.join(", ")
                );
                Ok(Figure { value: rate, text })
            }
            Target::ExportHeapBelow { mb } => output
                .lines()
                .filter(|l| l.starts_with("| JSON") || l.starts_with("| events CSV"))
                .filter_map(|l| l.rsplit('|').nth(1).and_then(|c| number_before(&c.replace('*', ""), " MB")))
                .fold(None, |worst: Option<f64>, m| Some(worst.map_or(m, |w| w.max(m))))
                .map(|m| Figure { value: m, text: format!("heap growth {m:.1} MB (goal < {mb} MB)") })
                .ok_or_else(|| "no export row in the output".into()),
            Target::MegabytesBelow { mb, line, label } => output
                .lines()
                .find_map(|l| number_before(l.strip_prefix(line)?, " MB"))
                .map(|m| Figure { value: m, text: format!("{label} {m:.1} MB (goal < {mb} MB)") })
                .ok_or_else(|| format!("no line starting with “{line}” in the output")),
            // Signed: a run may be faster with the pages open.
            Target::DropAtMost { percent, line, label } => output
                .lines()
                .find_map(|l| l.strip_prefix(line)?.split(" %").next()?.trim().parse::<f64>().ok())
                .map(|d| Figure { value: d, text: format!("{label} {d:.1} % (goal ≤ {percent} %)") })
                .ok_or_else(|| format!("no line '{line}' in the output")),
            Target::UsersPerSecondAtLeast { per_sec, include, label } => output
                .lines()
                .filter(|l| l.contains(include))
                .filter_map(|l| number_before(l, " users/s"))
                .fold(None, |worst: Option<f64>, r| Some(worst.map_or(r, |w| w.min(r))))
                .map(|r| Figure { value: r, text: format!("{label} {r:.0} users/s (goal ≥ {per_sec:.0})") })
                .ok_or_else(|| format!("no '{include}' line with users/s in the output")),
        }
    }
}

/// The verdict over every run's output of one case on one database: the
/// median run's figure, so one lucky (or unlucky) run decides nothing.
/// Also returns which run was the median, whose tables the report shows.
fn judge(target: Target, outputs: &[String], postgres: bool) -> (Verdict, usize) {
    let mut figures = Vec::new();
    for (run, output) in outputs.iter().enumerate() {
        match target.figure(output, postgres) {
            Ok(figure) => figures.push((run, figure)),
            Err(why) => return (Verdict { figure: format!("run {}: {why}", run + 1), met: false }, run),
        }
    }
    figures.sort_by(|a, b| a.1.value.total_cmp(&b.1.value));
    if target.higher_is_better() {
        figures.reverse();
    }
    // The lower middle of an even count: the worse of the two middle runs.
    let (run, median) = figures[figures.len() / 2].clone();
    let met = target.met(median.value, postgres);
    if outputs.len() == 1 {
        return (Verdict { figure: median.text, met }, run);
    }
    let mut values: Vec<(usize, f64)> = figures.iter().map(|(run, f)| (*run, f.value)).collect();
    values.sort_by_key(|(run, _)| *run);
    let values: Vec<String> = values.iter().map(|(_, v)| format!("{v:.2}")).collect();
    let figure = format!("{} — median of {} runs ({})", median.text, outputs.len(), values.join(", "));
    (Verdict { figure, met }, run)
}

fn cases(users: usize, events: usize, segments: usize, scale: f64) -> Vec<Case> {
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // Ingest and live keep their full size down to a tenth, then shrink
    // with the scale (the CI smoke run).
    let shrink = |full: f64, least: f64| (full * (scale * 10.0).min(1.0)).max(least).round().to_string();
    let (ingest_events, singles, live) = (shrink(100_000.0, 1_000.0), shrink(10_000.0, 100.0), shrink(300.0, 30.0));
    let live_app = args(&[
        "bench",
        "live-app",
        "--seconds",
        &shrink(15.0, 1.0),
        "--events",
        &ingest_events,
        "--scale",
        &scale.to_string(),
    ]);
    vec![
        Case {
            title: "Users list and searches",
            args: args(&["bench", "users-list", "--users", &users.to_string(), "--runs", "20"]),
            target: Target::P99Below { ms: 100.0, include: None, exclude: None, label: "worst case" },
        },
        Case {
            title: "Profile page: server render (first byte) and each box's server function over HTTP",
            args: args(&["bench", "profile", "--events", &events.to_string(), "--runs", "50"]),
            target: Target::P99Below { ms: 20.0, include: None, exclude: Some("whole HTML"), label: "worst" },
        },
        Case {
            title: "Segment search (New Segment modal)",
            args: args(&["bench", "segments", "--segments", &segments.to_string(), "--runs", "50"]),
            target: Target::P99Below { ms: 10.0, include: None, exclude: None, label: "worst search" },
        },
        Case {
            title: "Profile boxes at many events (activity)",
            args: args(&["bench", "activity", "--events", &events.to_string(), "--runs", "50"]),
            target: Target::P99Below { ms: 20.0, include: None, exclude: Some("histogram"), label: "worst box" },
        },
        Case {
            title: "Event histogram over 30 days",
            args: Vec::new(), // judged on the activity case's output
            target: Target::P99Below { ms: 100.0, include: Some("histogram"), exclude: None, label: "worst histogram" },
        },
        Case {
            title: "Live latency (ingest → SSE)",
            args: args(&["bench", "live", "--events", &live]),
            target: Target::P99Below { ms: 100.0, include: None, exclude: None, label: "live" },
        },
        Case {
            title: "Live page latency (ingest → app stream at ~20k events/s)",
            args: live_app,
            target: Target::P99Below { ms: 250.0, include: Some("Live page at ~20k"), exclude: None, label: "latency" },
        },
        Case {
            title: "Ingest with 5 Live pages open",
            args: Vec::new(), // judged on the Live page case's output
            target: Target::DropAtMost { percent: 10.0, line: "ingest drop with 5 Live pages open:", label: "drop" },
        },
        Case {
            title: "Live page first render",
            args: Vec::new(), // judged on the Live page case's output
            target: Target::P99Below {
                ms: 50.0,
                include: Some("Live page first render"),
                exclude: None,
                label: "overview",
            },
        },
        Case {
            title: "Ingest throughput over HTTP",
            args: args(&["bench", "ingest", "--events", &ingest_events, "--singles", &singles]),
            target: Target::IngestAtLeast { sqlite: 50_000.0, postgres: 25_000.0 },
        },
        Case {
            title: "Users list property filters (20 properties per user)",
            args: args(&[
                "bench",
                "properties",
                "--users",
                &users.to_string(),
                "--runs",
                "20",
                "--ingest-users",
                &shrink(100_000.0, 2_000.0),
            ]),
            // The "worst case" line (matches far into the order) is shown, not judged.
            target: Target::P99Below {
                ms: 100.0,
                include: Some(" matches, "),
                exclude: Some("worst case"),
                label: "worst filter",
            },
        },
        Case {
            title: "Properties box (a user's 20 properties)",
            args: Vec::new(), // judged on the property filters case's output
            target: Target::P99Below { ms: 20.0, include: Some("Properties box"), exclude: None, label: "box" },
        },
        Case {
            title: "Properties ingest (batches of 1,000 users × 5 properties)",
            args: Vec::new(), // judged on the property filters case's output
            target: Target::UsersPerSecondAtLeast { per_sec: 20_000.0, include: "users/s (", label: "slowest round" },
        },
        Case {
            title: "CSV import of 1,000,000 users (a job)",
            args: args(&["bench", "jobs", "--users", &users.to_string()]),
            target: Target::UsersPerSecondAtLeast { per_sec: 20_000.0, include: "import:", label: "import" },
        },
        Case {
            title: "Server memory growth during the import",
            args: Vec::new(), // judged on the import case's output
            target: Target::MegabytesBelow { mb: 100.0, line: "import memory:", label: "heap growth" },
        },
        Case {
            title: "Add to segment over every user of the app (a job)",
            args: Vec::new(), // judged on the import case's output
            target: Target::UsersPerSecondAtLeast {
                per_sec: 50_000.0,
                include: "add to segment:",
                label: "add to segment",
            },
        },
        Case {
            title: "Profile render while a job runs",
            args: Vec::new(), // judged on the import case's output
            target: Target::P99Below {
                ms: 50.0,
                include: Some("profile while a job runs"),
                exclude: None,
                label: "profile",
            },
        },
        Case {
            title: "Merge of a user with 100,000 events (and its undo)",
            args: args(&["bench", "merge", "--events", &shrink(100_000.0, 1_000.0), "--runs", "5"]),
            target: Target::P99Below {
                ms: 2_000.0,
                include: Some("merge of a user with"),
                exclude: None,
                label: "merge",
            },
        },
        Case {
            title: "Ingest through a merged userID",
            args: Vec::new(), // judged on the merge case's output
            target: Target::DropAtMost { percent: 10.0, line: "ingest cost through a merged userID:", label: "cost" },
        },
        Case {
            title: "Export of the heaviest user",
            args: args(&["bench", "export", "--events", &events.to_string()]),
            target: Target::ExportHeapBelow { mb: 100.0 },
        },
    ]
}

/// Runs one bench subcommand of this binary against `database_url`.
fn run(args: &[String], database_url: &str) -> anyhow::Result<(String, f64)> {
    // What the last case wrote goes to disk first: the OS's writeback of
    // one database's gigabytes (SQLite's ingest) otherwise lands in the
    // next case's timing (PostgreSQL's commits wait on their fsync behind
    // it). Best effort: a machine without `sync` runs the case anyway.
    let _ = Command::new("sync").status();
    let started = Instant::now();
    let output = Command::new(std::env::current_exe()?)
        .args(args)
        .env("DATABASE_URL", database_url)
        .output()
        .with_context(|| format!("cannot run bench {args:?}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    anyhow::ensure!(
        output.status.success(),
        "{args:?} on {database_url} failed: {}",
        String::from_utf8_lossy(&output.stderr).lines().last().unwrap_or_default()
    );
    Ok((stdout, started.elapsed().as_secs_f64()))
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().and_then(|l| number_before(l, " kB")))
        .map(|kb| format!("{:.0} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown memory".into());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!("{cores} cores, {memory}, load average {} at the start", load.split(' ').next().unwrap_or("?"))
}

fn commit() -> String {
    Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

pub async fn all(
    sqlite: &str,
    postgres: &str,
    scale: f64,
    repeat: usize,
    out: &str,
    only: &[String],
) -> anyhow::Result<()> {
    anyhow::ensure!(repeat >= 1, "--repeat must be at least 1");
    let sizes = super::dataset::Scale::of(scale);
    let (users, events, segments) = (sizes.users, sizes.heaviest, sizes.segments);
    let databases = [("SQLite", sqlite), ("PostgreSQL", postgres)];
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
    let mut header = format!(
        "Machine: {}. Date: {date}. Commit: {}. Release build of this binary; `server bench all --scale {scale} --repeat {repeat}`: {users} users, {} events in all ({events} of the heaviest user), {segments} segments. The suite ran {repeat} times; each figure below is the median of its runs, and each table is from the run that gave that median.\n",
        machine(),
        commit(),
        sizes.events,
    );
    let cases = selected(cases(users, events, segments, scale), only)?;
    // Each database's settings line, as the header gives it.
    let mut tunings: [String; 2] = Default::default();
    // Seed every case first (one run each), then let each database settle
    // (statistics, checkpoint), so no case is timed while another's bulk
    // load is still being vacuumed or checkpointed. A re-run of some cases
    // reads the dataset a full run seeded.
    for (n, (name, url)) in databases.iter().copied().enumerate().filter(|_| !cases.is_empty()) {
        if only.is_empty() {
            eprintln!("== seeding on {name}: bench seed --scale {scale}");
            run(&["bench".into(), "seed".into(), "--scale".into(), scale.to_string()], url)?;
        }
        let store = app::store::Store::connect(url).await.with_context(|| format!("cannot open {url}"))?;
        store.settle().await?;
        tunings[n] = format!("{name} settings: {}.", store.tuning().await?);
        let _ = writeln!(header, "\n{}", tunings[n]);
        store.close().await;
    }
    // outputs[case][database][run]: (stdout, seconds). The suite runs whole,
    // `repeat` times, so a slow stretch of the host falls on one run of
    // every case rather than on every run of one case.
    let mut outputs = vec![[Vec::new(), Vec::new()]; cases.len()];
    for pass in 1..=repeat {
        for (c, case) in cases.iter().enumerate() {
            for (n, (name, url)) in databases.iter().enumerate() {
                if !case.args.is_empty() {
                    eprintln!("== run {pass}/{repeat}: {} on {name}", case.title);
                    outputs[c][n].push(run(&case.args, url)?);
                }
            }
        }
    }
    let alone = (!only.is_empty()).then(|| format!("; re-run alone {date}, commit {}", commit()));
    // A re-run's section names its database's settings when they are not
    // the ones the report's header gives.
    let earlier = if only.is_empty() { String::new() } else { std::fs::read_to_string(out).unwrap_or_default() };
    let settings_note = |n: usize| match &alone {
        Some(_) if !earlier.contains(&tunings[n]) => format!("; {}", tunings[n].trim_end_matches('.')),
        _ => String::new(),
    };
    let mut report = Report::default();
    // A case without arguments is judged on the output of the case before it.
    let mut judged: [Vec<(String, f64)>; 2] = [Vec::new(), Vec::new()];
    for (c, case) in cases.iter().enumerate() {
        let mut row = format!("| {} |", case.title);
        let mut section = String::new();
        for (n, (name, _)) in databases.iter().enumerate() {
            if !case.args.is_empty() {
                judged[n] = outputs[c][n].clone();
            }
            let texts: Vec<String> = judged[n].iter().map(|(out, _)| out.clone()).collect();
            let (verdict, median_run) = judge(case.target, &texts, n == 1);
            if !case.args.is_empty() {
                let (output, seconds) = &judged[n][median_run];
                let _ = writeln!(
                    section,
                    "### {name} (run {} of {repeat}, {seconds:.0} s{}{})\n\n```text\n{output}```\n",
                    median_run + 1,
                    alone.as_deref().unwrap_or_default(),
                    settings_note(n)
                );
            }
            let mark = if verdict.met { "**met**" } else { "**missed**" };
            let _ = write!(row, " {mark}: {} |", verdict.figure);
        }
        report.rows.push((case.title.to_string(), row));
        if !case.args.is_empty() {
            report.sections.push((case.title.to_string(), section));
        }
    }
    if !only.is_empty() {
        // The wasm depends on no database and costs nothing to measure: its
        // row and section follow the build at every re-run (left as they
        // were where there is no release build).
        if let Ok((row, table)) = super::wasm::figures() {
            report.rows.push((super::wasm::TITLE.to_string(), row));
            report.sections.push((super::wasm::SECTION.to_string(), table));
        }
        let earlier = std::fs::read_to_string(out).with_context(|| format!("cannot read {out} to update it"))?;
        std::fs::write(out, report.splice_into(&earlier)).with_context(|| format!("cannot write {out}"))?;
        eprintln!("updated {out}");
        return Ok(());
    }
    let mut summary = String::from("| case | SQLite | PostgreSQL |\n|---|---|---|\n");
    for (_, row) in &report.rows {
        let _ = writeln!(summary, "{row}");
    }
    let mut sections = match super::wasm::figures() {
        Ok((row, table)) => {
            let _ = writeln!(summary, "{row}");
            format!("\n## {}\n\n{table}", super::wasm::SECTION)
        }
        Err(err) => format!("\n## {}\n\nNot measured: {err:#}\n", super::wasm::SECTION),
    };
    for (title, section) in &report.sections {
        let _ = write!(sections, "\n## {title}\n\n{section}");
    }
    let document = format!(
        "# Benchmarks\n\n{INTRO}\n## The last run\n\nWritten by `server bench all` (do not edit by hand; run it again).\n\n{header}\n\
         ### Targets\n\n{summary}\n{sections}"
    );
    std::fs::write(out, document).with_context(|| format!("cannot write {out}"))?;
    println!("{summary}");
    eprintln!("wrote {out}");
    Ok(())
}

/// The cases `only` names by subcommand (all when empty), each with the
/// cases judged on its output (those without arguments after it).
fn selected(cases: Vec<Case>, only: &[String]) -> anyhow::Result<Vec<Case>> {
    if only.is_empty() {
        return Ok(cases);
    }
    // `wasm` alone re-measures only the wasm (see `all`), which every re-run does.
    let known: Vec<&str> = cases.iter().filter_map(|c| c.args.get(1).map(String::as_str)).chain(["wasm"]).collect();
    if let Some(unknown) = only.iter().find(|name| !known.contains(&name.as_str())) {
        anyhow::bail!("no bench case '{unknown}' (cases: {})", known.join(", "));
    }
    let mut keep = false;
    Ok(cases
        .into_iter()
        .filter(|case| {
            if let Some(name) = case.args.get(1) {
                keep = only.contains(name);
            }
            keep
        })
        .collect())
}

/// The part of docs/BENCHMARKS.md that does not change from run to run.
const INTRO: &str = "\
How fast the console is, measured by the server's own bench commands on a
dataset they seed. Build the server with the bench commands (they are not
in the shipped binary) and run the whole suite on both databases:

```sh
cargo build --release -p server --features bench
target/release/server bench all --sqlite sqlite://data/bench-all.db \\
    --postgres postgres://audience:audience@127.0.0.1/audience_bench_all --scale 1 --repeat 3
```

`--scale 1` seeds 1,000,000 users, about 2,000,000 devices, 100,000
segments and 10,000,000 events over 30 days (one user with 1,000,000 of
them); the first run seeds for a long while, later runs reuse the data.
Each case is a subcommand of its own (`server bench users-list`,
`profile`, `segments`, `activity`, `live`, `live-app`, `ingest`,
`properties`, `jobs`, `merge`, `export`, `wasm`) for measuring one change;
`server bench all --only merge,jobs` re-runs some cases on both databases
and replaces just their rows and sections here, and the wasm's from the
release build in `target/site` (`--only wasm` does only that).
Speed is only ever measured here, never asserted by a test: a timing
assert fails on a busy machine and passes on a fast one.

The targets: users list and searches p99 < 100 ms; the profile page's
server render and each box's server function p99 < 20 ms; segment search
p99 < 10 ms; the activity boxes p99 < 20 ms and the 30-day histogram
p99 < 100 ms; ingest → live stream p99 < 100 ms; ingest → Live page
p99 < 250 ms at 20,000 events/s, ingest at most 10 % slower with 5 Live
pages open, and the Live page's first render p99 < 50 ms; ingest ≥ 50,000
events/s on SQLite and ≥ 25,000 on PostgreSQL; property filters p99
< 100 ms and properties ingest ≥ 20,000 users/s; a CSV import of 1,000,000
users ≥ 20,000 users/s with memory growth < 100 MB, \"Add to segment\" over
them ≥ 50,000 users/s and the profile p99 < 50 ms while a job runs;
merging a user with 100,000 events < 2 s and ingest through a merged
userID at most 10 % slower; an export's memory growth < 100 MB; the wasm
of a first visit to Audience › Users ≤ 250 KB gzip.
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p99s_are_read_from_both_output_shapes() {
        assert_eq!(p99_of("  'ana', by name   median 1.20 ms, p95 3.40 ms, p99 12.50 ms (20 shown)"), Some(12.5));
        assert_eq!(
            p99_of("| last hour box | sqlite | 1000000 | 0.34 ms | 0.44 ms | 4.20 ms | 100 events |"),
            Some(4.2)
        );
        assert_eq!(p99_of("| case | database | events | median | p95 | p99 | result |"), None);
    }

    #[test]
    fn targets_are_judged_on_the_worst_line() {
        let out = "a median 1 ms, p95 2 ms, p99 30.00 ms\nb median 1 ms, p95 2 ms, p99 120.00 ms\n";
        let one = |out: &str| vec![out.to_string()];
        let (verdict, _) =
            judge(Target::P99Below { ms: 100.0, include: None, exclude: None, label: "worst" }, &one(out), false);
        assert!(!verdict.met && verdict.figure.contains("120.00"), "{}", verdict.figure);
        let ingest = "| 1 | 500 | 200 | 23833 | 47 | 0 | 20.0 | 38.0 |\n| 4 | 500 | 200 | 27000 | 54 | 0 | 1 | 2 |\n\
                      | 16 | 500 | 208 | 21000 | 42 | 0 | 1 | 2 |\n| 16 | 1 | 10000 | 90000 | 90000 | 0 | 1 | 2 |\n";
        let target = Target::IngestAtLeast { sqlite: 50_000.0, postgres: 25_000.0 };
        assert!(!judge(target, &one(ingest), false).0.met);
        let (verdict, _) = judge(target, &one(ingest), true);
        assert!(verdict.met && verdict.figure.starts_with("best 4 clients × 500: 27000"), "{}", verdict.figure);
        let drop = Target::DropAtMost { percent: 10.0, line: "drop:", label: "drop" };
        assert!(judge(drop, &one("x\ndrop: -2.5 % (of the medians)\n"), false).0.met);
        assert!(!judge(drop, &one("drop: 12.0 %\n"), false).0.met);
        let export = "| JSON | 1 | 2.8 | 72.8 | 19.7 MB | 2.1 MB | **1.9 MB** |\n";
        assert!(judge(Target::ExportHeapBelow { mb: 100.0 }, &one(export), false).0.met);
        assert!(!judge(Target::ExportHeapBelow { mb: 1.0 }, &one(export), false).0.met);
    }

    #[test]
    fn only_picks_cases_with_those_judged_on_their_output() {
        let titles = |only: &[&str]| -> Vec<&'static str> {
            let only: Vec<String> = only.iter().map(|s| s.to_string()).collect();
            selected(cases(1_000, 1_000, 100, 0.001), &only).unwrap().into_iter().map(|c| c.title).collect()
        };
        let merge = titles(&["merge"]);
        assert_eq!(merge, ["Merge of a user with 100,000 events (and its undo)", "Ingest through a merged userID"]);
        assert_eq!(titles(&["jobs", "merge"]).len(), 6, "the import's four rows and the merge's two");
        assert_eq!(titles(&[]).len(), cases(1_000, 1_000, 100, 0.001).len());
        assert!(selected(cases(1_000, 1_000, 100, 0.001), &["nope".to_string()]).is_err());
        assert!(titles(&["wasm"]).is_empty(), "the wasm is measured apart, at every re-run");
    }

    #[test]
    fn the_median_run_decides_not_the_best() {
        let runs = |p99s: &[f64]| -> Vec<String> {
            p99s.iter().map(|p| format!("x median 1 ms, p95 2 ms, p99 {p:.2} ms\n")).collect()
        };
        let target = Target::P99Below { ms: 100.0, include: None, exclude: None, label: "worst" };
        // One lucky run of three meets the goal; the median does not.
        let (verdict, run) = judge(target, &runs(&[150.0, 90.0, 120.0]), false);
        assert!(!verdict.met, "{}", verdict.figure);
        assert_eq!(run, 2, "the run with the median figure (120) is the third");
        assert!(verdict.figure.contains("p99 120.00 ms") && verdict.figure.contains("median of 3 runs"));
        // Two of three meet it: met.
        assert!(judge(target, &runs(&[150.0, 90.0, 95.0]), false).0.met);
        // Throughput: higher is better, and the median is still the middle one.
        let ingest = |rate: u32| format!("| 4 | 500 | 200 | {rate} | 54 | 0 | 1 | 2 |\n");
        let target = Target::IngestAtLeast { sqlite: 50_000.0, postgres: 25_000.0 };
        let (verdict, run) = judge(target, &[ingest(60_000), ingest(40_000), ingest(45_000)], false);
        assert!(!verdict.met && run == 2, "{}", verdict.figure);
        // A run without a figure fails the case, whatever the others show.
        let (verdict, _) = judge(target, &[ingest(60_000), "nothing".into(), ingest(60_000)], false);
        assert!(!verdict.met && verdict.figure.starts_with("run 2:"), "{}", verdict.figure);
    }
}
