//! PostgreSQL outage: a PostgreSQL cluster of the test's own (initdb,
//! pg_ctl), the real server binary on it, events flowing and a profile's
//! live stream open. The cluster is stopped, then started again:
//! - while it is down, the ingest API and the server functions answer 503
//!   with a JSON error within the pool's acquire timeout (10 s), not a hang,
//!   and a page says so in words;
//! - nothing is half-written: every batch is stored whole or not at all;
//! - the server recovers by itself, without a restart;
//! - the live stream, resumed with `Last-Event-ID` as a browser does, has
//!   every acknowledged event, none missing;
//! - `/readyz` answers 503 with a JSON reason (within its one-second
//!   deadline) while the database is down, and 200 again once it is back
//!   and the live channel listens again.
//!
//! Needs PostgreSQL's server binaries (`/usr/lib/postgresql/*/bin`) and, as
//! root, the `postgres` account to run them; without them it says so and
//! passes, except under `CI=true`.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::auth::{api_key, password};
use app::store::Store;
use common::instances::{free_port, start};
use serde_json::{json, Value};

/// The pool's acquire timeout (`app::store`): the longest a request may wait.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
const BATCH: usize = 10;

/// A throwaway PostgreSQL cluster, stopped and removed on drop.
struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

impl Cluster {
    fn create() -> Option<Cluster> {
        let bin = std::fs::read_dir("/usr/lib/postgresql").ok()?.flatten().map(|e| e.path().join("bin")).max()?;
        let as_postgres = nix_is_root();
        let dir = tempfile::tempdir().ok()?;
        if as_postgres {
            let chown = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status().ok()?;
            assert!(chown.success(), "chown the cluster's folder to postgres");
        }
        let cluster = Cluster { bin, dir, port: free_port(), as_postgres };
        let data = cluster.data();
        cluster.run("initdb", &["-D", &data, "-U", "audience", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        Some(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// `tool` of the cluster's PostgreSQL, as the postgres account when root.
    fn command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        }
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let output = self.command(tool).args(args).output().unwrap_or_else(|e| panic!("run {tool}: {e}"));
        assert!(output.status.success(), "{tool} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }

    fn start(&self) {
        let options =
            format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", self.port, self.dir.path().display());
        let log = self.dir.path().join("log").display().to_string();
        self.run("pg_ctl", &["-D", &self.data(), "-o", &options, "-l", &log, "-w", "start"]);
    }

    /// A clean, fast shutdown: PostgreSQL ends every session and refuses new ones.
    fn stop(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    fn url(&self) -> String {
        format!("postgres://audience@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Immediate: the test is over (or failed); no need to wait.
        let _ = self.command("pg_ctl").args(["-D", &self.data(), "-m", "immediate", "stop"]).output();
    }
}

fn nix_is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn usable() -> bool {
    let binaries = std::fs::read_dir("/usr/lib/postgresql").is_ok();
    let account = !nix_is_root() || Command::new("id").arg("postgres").output().is_ok_and(|o| o.status.success());
    if !(binaries && account) {
        assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "CI=true needs PostgreSQL's server binaries");
        eprintln!("!!! SKIPPED the outage test: no PostgreSQL server binaries or postgres account");
    }
    binaries && account
}

/// The event types a live stream delivered, read until `stop` says so; it
/// reconnects with `Last-Event-ID` whenever the stream ends, as EventSource does.
async fn watch(client: reqwest::Client, url: String, seen: Arc<Mutex<BTreeSet<String>>>) {
    let mut last_id: Option<String> = None;
    loop {
        let mut request = client.get(&url).header("Accept", "text/event-stream");
        if let Some(id) = &last_id {
            request = request.header("Last-Event-ID", id);
        }
        let Ok(response) = request.send().await else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        if !response.status().is_success() {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        let mut response = response;
        let mut buffer = String::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let message: String = buffer.drain(..end + 2).collect();
                for line in message.lines() {
                    if let Some(id) = line.strip_prefix("id:") {
                        last_id = Some(id.trim().to_string());
                    }
                    if let Some(data) = line.strip_prefix("data:") {
                        let events = match serde_json::from_str::<Value>(data.trim()) {
                            Ok(Value::Array(events)) => events,
                            Ok(event) => vec![event],
                            Err(_) => Vec::new(),
                        };
                        for event in events {
                            if let Some(kind) = event.get("event_type").and_then(Value::as_str) {
                                seen.lock().unwrap().insert(kind.to_string());
                            }
                        }
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `/readyz`: its status, its JSON, and how long it took.
async fn readiness(http: &reqwest::Client, base: &str) -> (u16, Value, Duration) {
    let started = Instant::now();
    let response = http.get(format!("{base}/readyz")).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null), started.elapsed())
}

async fn send_batch(http: &reqwest::Client, base: &str, key: &str, n: usize) -> (u16, Value, Duration) {
    let events: Vec<Value> =
        (0..BATCH).map(|i| json!({"id": format!("b{n}-{i}"), "type": format!("b{n}-{i}"), "userID": "u1"})).collect();
    let started = Instant::now();
    let response = http.post(format!("{base}/api/v1/events")).bearer_auth(key).json(&events).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_answers_503_while_postgres_is_down_and_recovers_by_itself() {
    if !usable() {
        return;
    }
    let cluster = Cluster::create().expect("a PostgreSQL cluster");
    cluster.start();
    let store = Store::connect(&cluster.url()).await.expect("migrate the new cluster");
    let key = api_key::generate();
    store.create_app("A", &api_key::hash(&key), 1).await.unwrap();
    let hash = password::hash(common::PASSWORD.into()).await.unwrap();
    store.create_admin("admin@example.com", &hash, "admin", 1).await.unwrap();
    store.close().await;
    let server = start(&cluster.url(), &[("INGEST_RATE_PER_SEC", "100000")]).await;
    let base = server.base.clone();
    let http = common::client();
    let user: Value = http
        .put(format!("{base}/api/v1/users/u1"))
        .bearer_auth(&key)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user_id =
        user["id"].as_i64().or_else(|| user["consoleUrl"].as_str()?.rsplit('/').next()?.parse().ok()).expect("user id");

    let admin =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let signed_in = admin
        .post(format!("{base}/api/auth/login"))
        .header("Origin", &base)
        .header("Accept", "application/json")
        .form(&[("email", "admin@example.com"), ("password", common::PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(signed_in.status().is_success() || signed_in.status().is_redirection());
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let watcher = tokio::spawn(watch(admin.clone(), format!("{base}/api/live/users/{user_id}?after=0"), seen.clone()));

    let mut acknowledged = BTreeSet::new();
    for n in 0..5 {
        let (status, body, _) = send_batch(&http, &base, &key, n).await;
        assert_eq!(status, 200, "{body}");
        acknowledged.insert(n);
    }

    assert_eq!(readiness(&http, &base).await.0, 200, "ready before the outage");
    cluster.stop();
    let (status, body, took) = readiness(&http, &base).await;
    assert_eq!(status, 503, "not ready while the database is down: {body}");
    assert!(body["error"].is_string(), "a JSON reason: {body}");
    assert!(took < Duration::from_secs(3), "readiness answers within its deadline, took {took:?}");
    let mut refused = Vec::new();
    for n in 5..8 {
        let (status, body, took) = send_batch(&http, &base, &key, n).await;
        assert!(took <= ACQUIRE_TIMEOUT + Duration::from_secs(3), "batch {n} took {took:?}: a hang");
        if status == 200 {
            acknowledged.insert(n);
        } else {
            assert_eq!(status, 503, "batch {n} while down: {body}");
            assert!(body["error"].is_string(), "a JSON error: {body}");
            refused.push((n, took));
        }
    }
    assert!(!refused.is_empty(), "the outage was seen");
    let started = Instant::now();
    let list = admin
        .post(format!("{base}/api/users/list"))
        .header("Origin", &base)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    let (status, text) = (list.status().as_u16(), list.text().await.unwrap());
    assert!(started.elapsed() <= ACQUIRE_TIMEOUT + Duration::from_secs(3), "server fn took {:?}", started.elapsed());
    assert_eq!(status, 503, "server fn while down: {text}");
    assert!(serde_json::from_str::<Value>(&text).is_ok(), "a JSON error: {text}");
    let page = admin.get(format!("{base}/users")).send().await.unwrap();
    let page_status = page.status().as_u16();
    let html = page.text().await.unwrap();
    assert!(
        html.contains("try again"),
        "the page says what happened ({page_status}): {}",
        &html[..html.len().min(500)]
    );

    cluster.start();
    let recovered = Instant::now();
    let mut n = 8;
    loop {
        let (status, body, _) = send_batch(&http, &base, &key, n).await;
        if status == 200 {
            acknowledged.insert(n);
            break;
        }
        assert_eq!(status, 503, "{body}");
        assert!(recovered.elapsed() < Duration::from_secs(60), "no recovery without a restart");
        n += 1;
    }
    for n in n + 1..n + 4 {
        assert_eq!(send_batch(&http, &base, &key, n).await.0, 200);
        acknowledged.insert(n);
    }
    // Ready again once the database answers and the LISTEN connection is back.
    loop {
        let (status, body, _) = readiness(&http, &base).await;
        if status == 200 {
            break;
        }
        assert_eq!(status, 503, "{body}");
        assert!(recovered.elapsed() < Duration::from_secs(60), "never ready again: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Whole batches only, each acknowledged one exactly once.
    let store = Store::connect(&cluster.url()).await.unwrap();
    let app_id = store.list_apps().await.unwrap()[0].id;
    let stored: std::collections::HashMap<String, i64> =
        store.stored_client_ids(app_id).await.unwrap().into_iter().collect();
    store.close().await;
    for batch in 0..n + 4 {
        let count = (0..BATCH).filter(|i| stored.contains_key(&format!("b{batch}-{i}"))).count();
        assert!(count == 0 || count == BATCH, "batch {batch} half-written: {count} of {BATCH}");
        assert_eq!(count == BATCH, acknowledged.contains(&batch), "batch {batch}: stored = acknowledged");
    }
    assert!(stored.values().all(|&c| c == 1));

    // The live stream, resumed, has every acknowledged event.
    let wanted: BTreeSet<String> =
        acknowledged.iter().flat_map(|b| (0..BATCH).map(move |i| format!("b{b}-{i}"))).collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let missing: Vec<String> = wanted.difference(&seen.lock().unwrap()).cloned().collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} acknowledged events never reached the stream: {missing:?}",
            missing.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    watcher.abort();
    let refused: Vec<String> = refused.iter().map(|(n, took)| format!("batch {n}: 503 in {took:.1?}")).collect();
    eprintln!("outage: {}; recovered {:.1?} after the restart", refused.join(", "), recovered.elapsed());
    drop(server);
}
