//! Typed configuration from flags and environment variables (flags win).

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand};
use leptos::config::LeptosOptions;

#[derive(Debug, Parser)]
#[command(
    name = "server",
    version,
    about = "Audience console: web UI, ingest API and operator commands.",
    long_about = "Audience console: web UI, ingest API and operator commands.\n\n\
                  Without a subcommand it serves the console. RUST_LOG sets the log filter \
                  (default: info)."
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Database: sqlite://path/file.db (created if missing) or postgres://user:pass@host/db.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/audience.db", global = true)]
    pub database_url: String,
    /// PostgreSQL connections opened at start and kept open, each having
    /// planned the profile page's reads once (more open when needed).
    #[arg(long, env = "DATABASE_WARM_CONNECTIONS", default_value_t = 8, global = true)]
    pub database_warm_connections: u32,
    /// Most PostgreSQL connections this server opens. On the bench machine
    /// (2 cores for server and database) 8 rendered a profile faster than
    /// 16 (p99 11.5–15.5 ms against 13.4–22.4) at the same ingest rate;
    /// a few per database core is the usual rule.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 8, global = true)]
    pub database_max_connections: u32,
    /// Address the web server listens on.
    #[arg(long = "addr", env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000", global = true)]
    pub site_addr: SocketAddr,
    /// Folder holding the built site (pkg/ with the wasm, css, and public assets).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site", global = true)]
    pub site_root: String,
    /// Domain of generated Push Mail addresses (<token>@<domain>).
    #[arg(long, env = "PUSHMAIL_DOMAIN", default_value = "pushmail.localhost", global = true)]
    pub pushmail_domain: String,
    /// Port of the inbound SMTP listener for Push Mail (0: do not listen).
    #[arg(long, env = "SMTP_PORT", default_value_t = 2525, global = true)]
    pub smtp_port: u16,
    /// Map tile URL template ({z}/{x}/{y}), https (the pages' CSP allows
    /// https images); empty draws maps without tiles. Without internet the
    /// maps show markers, circles and trails on a plain background.
    #[arg(long, env = "MAP_TILE_URL", default_value = "https://tile.openstreetmap.org/{z}/{x}/{y}.png", global = true)]
    pub map_tile_url: String,
    /// The tiles' attribution, shown on every map (HTML, from the operator).
    #[arg(
        long,
        env = "MAP_ATTRIBUTION",
        default_value = "&copy; <a href=\"https://www.openstreetmap.org/copyright\">OpenStreetMap</a> contributors",
        global = true
    )]
    pub map_attribution: String,
    /// Shared secret of `POST /api/v1/inbound/mail` (Bearer); unset disables that endpoint.
    #[arg(long, env = "INBOUND_MAIL_SECRET", global = true, hide_env_values = true)]
    pub inbound_mail_secret: Option<String>,
    /// Mark session cookies Secure (set when the console is served over HTTPS).
    #[arg(long, env = "COOKIE_SECURE", default_value_t = false, global = true)]
    pub cookie_secure: bool,
    /// The console's origin as browsers see it (`https://console.example.com`),
    /// checked against the Origin of server-function calls (CSRF). Default:
    /// `http://` and the address the server listens on.
    #[arg(long, env = "PUBLIC_ORIGIN", global = true)]
    pub public_origin: Option<String>,
    /// Events older than this many days are deleted (whole months on
    /// PostgreSQL, whose events are partitioned by month). Default: kept.
    #[arg(long, env = "EVENT_RETENTION_DAYS", global = true)]
    pub event_retention_days: Option<u32>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (comma-separated
    /// IPs, e.g. `10.0.0.1,10.0.0.2`). Empty (the default): the header is
    /// ignored and the connection's peer is the client.
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',', global = true)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Seconds a client has to send a request's head after connecting or
    /// after its previous answer (an idle connection closes then), and
    /// between the parts of a request body.
    #[arg(long, env = "CLIENT_TIMEOUT_SECS", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub client_timeout_secs: u64,
    /// Connections one client address may hold open; behind `TRUSTED_PROXIES`,
    /// requests in flight per forwarded address.
    #[arg(long, env = "MAX_CONNECTIONS_PER_CLIENT", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub max_connections_per_client: u64,
    /// Ingest requests per second allowed per app (bursts of twice that).
    #[arg(long, env = "INGEST_RATE_PER_SEC", default_value_t = 1000, global = true)]
    pub ingest_rate_per_sec: u32,
    /// Seconds between a shutdown signal and closing the listener: `/readyz`
    /// answers 503 meanwhile while requests are still served, so a balancer
    /// that polls readiness stops sending first (set it above the polling
    /// interval). Then requests in flight get up to 10 s to finish.
    #[arg(long, env = "SHUTDOWN_DELAY_SECS", default_value_t = 0, global = true)]
    pub shutdown_delay_secs: u64,
    /// Address of the Prometheus metrics listener (`GET /metrics`), e.g.
    /// `127.0.0.1:9100`; never the public port. Unset (the default): no
    /// metrics are kept.
    #[arg(long, env = "METRICS_ADDR", global = true)]
    pub metrics_addr: Option<SocketAddr>,
    /// Where uploaded CSV files wait for their import (the instance that
    /// received a file imports it).
    #[arg(long, env = "IMPORT_DIR", default_value = "data/imports", global = true)]
    pub import_dir: std::path::PathBuf,
    /// The largest CSV upload accepted, in MiB.
    #[arg(long, env = "IMPORT_MAX_MIB", default_value_t = 2048, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub import_max_mib: u64,
    /// Seconds without progress after which another instance takes over a
    /// running job (its instance stopped).
    #[arg(long, env = "JOB_STALE_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub job_stale_secs: u64,
    /// Log lines as `text` (for people) or `json` (one object per line, for
    /// a log pipeline). `RUST_LOG` sets the filter either way.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The prefix of a test process's upload folder; its process id follows.
const TEST_IMPORTS: &str = "audience-imports-";

/// Removes the upload folders of test processes that are no longer running
/// (a test's server keeps a cancelled or failed import's file, and a test
/// process has no end of its own to clear it at). Where `/proc` does not
/// list processes, nothing is removed; nor is a folder changed within the
/// hour (its process may live where this `/proc` cannot see it).
fn remove_ended_import_dirs() {
    let proc = std::path::Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name.to_str().and_then(|n| n.strip_prefix(TEST_IMPORTS)).and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            let idle = entry.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
            if !proc.join(pid.to_string()).exists() && idle.is_some_and(|idle| idle.as_secs() > 3600) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

impl Config {
    /// A configuration with defaults and the given database, for tests.
    pub fn for_database(database_url: &str) -> Config {
        let mut cli = Cli::parse_from(["server"]);
        cli.config.database_url = database_url.to_string();
        cli.config.smtp_port = 0;
        // Many tests' servers share one PostgreSQL: connections as needed.
        cli.config.database_warm_connections = 0;
        // Each test process keeps its uploads apart, and clears away the
        // folders of test processes that have ended.
        remove_ended_import_dirs();
        cli.config.import_dir = std::env::temp_dir().join(format!("{TEST_IMPORTS}{}", std::process::id()));
        cli.config
    }

    /// The configured public origin, normalised, or `http://<addr>` of the
    /// address actually listened on.
    pub fn origin(&self, listening: SocketAddr) -> anyhow::Result<String> {
        match self.public_origin.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
            None => Ok(format!("http://{listening}")),
            Some(origin) => {
                let origin = origin.trim_end_matches('/').to_ascii_lowercase();
                let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
                match rest {
                    Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', '@', ' ']) => Ok(origin),
                    _ => anyhow::bail!(
                        "PUBLIC_ORIGIN must be a scheme and host, like https://console.example.com (got '{origin}')"
                    ),
                }
            }
        }
    }

    /// The deadlines and caps of client connections.
    pub fn jobs_config(&self) -> app::jobs::JobsConfig {
        app::jobs::JobsConfig {
            import_dir: self.import_dir.clone(),
            max_upload_bytes: self.import_max_mib * 1024 * 1024,
            stale_after: std::time::Duration::from_secs(self.job_stale_secs),
            ..app::jobs::JobsConfig::default()
        }
    }

    pub fn connection_limits(&self) -> crate::serve::ConnectionLimits {
        crate::serve::ConnectionLimits {
            client_timeout: std::time::Duration::from_secs(self.client_timeout_secs),
            per_client: usize::try_from(self.max_connections_per_client).unwrap_or(usize::MAX),
            trusted_proxies: self.trusted_proxies.clone(),
        }
    }

    pub fn leptos_options(&self) -> LeptosOptions {
        LeptosOptions::builder()
            .output_name("audience")
            .site_root(self.site_root.as_str())
            .site_pkg_dir("pkg")
            .site_addr(self.site_addr)
            .hash_files(asset_hashes_present())
            .build()
    }
}

/// True when `cargo leptos build` left `hash.txt` beside this binary: the
/// bundle's file names then carry content hashes (`hash-files` in the
/// workspace's leptos metadata), which the pages link and which may be
/// cached for good. A binary built by plain `cargo build` (tests, benches)
/// links the unhashed names.
pub fn asset_hashes_present() -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt")))
        .is_some_and(|f| f.is_file())
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the console (the default).
    Serve,
    /// Manage customer apps.
    #[command(subcommand)]
    App(AppCommand),
    /// Manage console accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Seed a demo app with users, devices, segments, events and messages;
    /// prints the demo app's API key alone on the last line.
    DemoData {
        /// How many users to create.
        #[arg(long, default_value_t = 500)]
        users: usize,
    },
    /// Measure server times at scale (users list, segment search, ingest).
    #[cfg(feature = "bench")]
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Post a steady stream of demo events through the ingest API.
    #[cfg(feature = "bench")]
    Simulate {
        /// API key of the demo app (printed by `demo-data`).
        #[arg(long, env = "SIMULATE_API_KEY")]
        api_key: String,
        /// Base URL of the running console.
        #[arg(long, default_value = "http://127.0.0.1:3000")]
        url: String,
        /// Milliseconds between batches.
        #[arg(long, default_value_t = 2000)]
        interval_ms: u64,
        /// Stop after this many batches (default: run until stopped).
        #[arg(long)]
        batches: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Create an app; prints its API key alone on the last line (only a hash is stored).
    Create {
        #[arg(long)]
        name: String,
    },
    /// Issue an app a new API key, printed alone on the last line; the old key stops working at once.
    RotateKey {
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a console account. The password comes from ADMIN_PASSWORD, else from stdin.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["admin", "viewer"])]
        role: String,
    },
}

#[cfg(feature = "bench")]
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// The wasm a browser loads per page (main module and route chunks),
    /// raw and gzip, from the release build's pkg directory.
    Wasm,
    /// Seeds (or completes) the whole bench dataset: at --scale 1, 1M users,
    /// ≈ 2M devices, 100k segments with memberships, 10M events over 30
    /// days (one user with 1M), messages with deliveries.
    Seed {
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
    },
    /// First page and searches of the users list.
    UsersList {
        #[arg(long, default_value_t = 1_000_000)]
        users: usize,
        #[arg(long, default_value_t = 20)]
        runs: usize,
    },
    /// User properties: the users list's property filters at --users users
    /// with 20 properties each, the profile's Properties box, and the
    /// properties ingest route (batches of 1,000 users) over HTTP.
    Properties {
        #[arg(long, default_value_t = 1_000_000)]
        users: usize,
        #[arg(long, default_value_t = 20)]
        runs: usize,
        /// Users whose properties are posted in the ingest case.
        #[arg(long, default_value_t = 100_000)]
        ingest_users: usize,
    },
    /// The "New Segment" modal's search with many segments in one app.
    Segments {
        #[arg(long, default_value_t = 100_000)]
        segments: usize,
        #[arg(long, default_value_t = 50)]
        runs: usize,
    },
    /// The profile's activity boxes for one user with many events (30 days).
    Activity {
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        #[arg(long, default_value_t = 50)]
        runs: usize,
    },
    /// Every case on SQLite and PostgreSQL, the suite run `--repeat` times,
    /// written to docs/BENCHMARKS.md with each target's median figure met
    /// or missed.
    All {
        #[arg(long, default_value = "sqlite://data/bench-all.db")]
        sqlite: String,
        #[arg(long, default_value = "postgres://audience:audience@127.0.0.1/audience_bench_all")]
        postgres: String,
        /// The dataset's size (`bench seed --scale`); 1 is the full one.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// How many times the whole suite runs; each figure is the median.
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        #[arg(long, default_value = "docs/BENCHMARKS.md")]
        out: String,
        /// Only these cases (their subcommands, comma-separated, e.g.
        /// `merge,jobs`), without seeding: their rows and sections in the
        /// existing report are replaced, the rest kept.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
    /// The profile page, server-rendered, for a normal and the heaviest
    /// user: time to first byte, whole HTML, size.
    Profile {
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        #[arg(long, default_value_t = 50)]
        runs: usize,
    },
    /// Options > Export of the activity bench's user: a server process, the
    /// JSON and CSV downloads through HTTP, the server's memory growth.
    Export {
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
    },
    /// Background jobs: a server process imports `--users` users from a
    /// CSV file (its memory sampled), then adds them all to a segment while
    /// a profile page is loaded again and again; with `--again`, then
    /// imports the same file a second time (every user exists, unchanged)
    /// and a file renaming every user (each one re-indexed).
    Jobs {
        #[arg(long, default_value_t = 1_000_000)]
        users: usize,
        /// Also time a re-run of the import. Off in the suite: its churn
        /// (a million users' search rows rewritten, then removed with the
        /// app) leaves the database slower to write for the next run.
        #[arg(long)]
        again: bool,
    },
    /// Merging users: a user with `--events` events merged into another
    /// (and the merge undone), then batches of events ingested through the
    /// merged userID (an alias) against the kept userID itself.
    Merge {
        #[arg(long, default_value_t = 100_000)]
        events: usize,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Ingest → live stream latency: a server process, a viewer's SSE
    /// stream, events posted one at a time.
    Live {
        #[arg(long, default_value_t = 300)]
        events: usize,
    },
    /// Audience › Live under load: ingest → app stream latency at paced
    /// rates, ingest throughput with and without Live pages open, and the
    /// page's first render on the bench dataset.
    LiveApp {
        /// Registered users (each with one device) the events are spread over.
        #[arg(long, default_value_t = 1000)]
        users: usize,
        /// Length of each paced load, in seconds.
        #[arg(long, default_value_t = 15.0)]
        seconds: f64,
        /// Events per throughput run (batches of 500).
        #[arg(long, default_value_t = 100_000)]
        events: usize,
        /// Throughput runs with pages open, and as many without.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Timed first renders.
        #[arg(long, default_value_t = 50)]
        runs: usize,
        /// The bench dataset's size (`bench seed --scale`) for the first render.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
    },
    /// Events/s through the ingest API: a separate server process and 1, 4
    /// and 16 concurrent HTTP clients, with batches of 500 and of 1 event.
    Ingest {
        /// Registered users (each with one device) the events are spread over.
        #[arg(long, default_value_t = 1000)]
        users: usize,
        /// Events per configuration with batches of 500.
        #[arg(long, default_value_t = 100_000)]
        events: usize,
        /// Requests per configuration with one event each.
        #[arg(long, default_value_t = 10_000)]
        singles: usize,
    },
}
