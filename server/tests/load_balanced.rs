//! Past one machine, as deployed: two server instances on one PostgreSQL
//! database behind a real load balancer (nginx, round robin). Signed in
//! through it, the session holds on both instances; an event ingested
//! through one instance reaches a profile's live stream held by the other;
//! Push Mail and segment changes made on one show on the other. nginx adds
//! `X-Upstream` to each answer, so the test knows which instance answered
//! and checks that both did. And an instance stopped by SIGTERM during
//! ingest finishes what it acknowledged, ends its live stream with a
//! reconnect hint, and exits within its bound, while the stream resumes
//! on the other instance.
//!
//! Needs `nginx` (Debian's `nginx-light`; `.ci/run` installs it) and
//! PostgreSQL; without them it says so and passes, except under `CI=true`.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::auth::{api_key, password};
use app::store::testing::TestDatabase;
use app::store::Store;
use common::instances::{free_port, start, Instance};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

/// nginx in the foreground with its own prefix folder; stopped on drop.
struct Nginx {
    child: Child,
    base: String,
    dir: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn nginx_binary() -> Option<PathBuf> {
    let candidates = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).map(|dir| dir.join("nginx")).collect::<Vec<_>>())
        .unwrap_or_default();
    candidates.into_iter().chain([PathBuf::from("/usr/sbin/nginx")]).find(|p| p.is_file())
}

/// Round robin over `upstreams`, streaming answers (server-sent events)
/// without buffering, each answer labelled with the instance it came from.
fn config(dir: &std::path::Path, port: u16, upstreams: &[&Instance]) -> String {
    let servers: String = upstreams.iter().map(|i| format!("    server 127.0.0.1:{};\n", i.port)).collect();
    let d = dir.display();
    format!(
        "worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  upstream audience {{
{servers}  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://audience;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_set_header Host $http_host;
      proxy_buffering off;
      proxy_read_timeout 1h;
      # An instance that closes a connection it had not answered (it is
      # shutting down) gets the request again on the other one. Safe for
      # the ingest API: events with ids are never stored twice.
      proxy_next_upstream error timeout non_idempotent;
      add_header X-Upstream $upstream_addr always;
    }}
  }}
}}
"
    )
}

async fn start_nginx(binary: &std::path::Path, port: u16, upstreams: &[&Instance]) -> Nginx {
    let dir = std::env::temp_dir().join(format!("audience-nginx-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    // Workers may run as another user (when the master is root).
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::write(dir.join("nginx.conf"), config(&dir, port, upstreams)).unwrap();
    let child = Command::new(binary)
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .spawn()
        .expect("run nginx");
    let nginx = Nginx { child, base: format!("http://127.0.0.1:{port}"), dir };
    for _ in 0..100 {
        if reqwest::get(format!("{}/readyz", nginx.base)).await.is_ok_and(|r| r.status() == StatusCode::OK) {
            return nginx;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = std::fs::read_to_string(nginx.dir.join("error.log")).unwrap_or_default();
    panic!("nginx did not answer on {port}: {log}");
}

/// Which instance answered (nginx's `X-Upstream`).
fn upstream(response: &reqwest::Response) -> String {
    response.headers().get("x-upstream").and_then(|v| v.to_str().ok()).unwrap_or("?").to_string()
}

/// A server function called through the balancer: (instance, status, JSON).
async fn call(browser: &Client, base: &str, path: &str, form: &[(&str, &str)]) -> (String, StatusCode, Value) {
    let response = browser.post(format!("{base}{path}")).header("Origin", base).form(form).send().await.unwrap();
    let (by, status) = (upstream(&response), response.status());
    (by, status, response.json().await.unwrap_or(Value::Null))
}

/// nginx's binary, or `None` (and the test is skipped) outside CI.
fn nginx_or_skip() -> Option<PathBuf> {
    let found = nginx_binary();
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: nginx is required (apt-get install nginx-light)"
        );
        eprintln!("!!! SKIPPED the load-balanced test: nginx is not installed");
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_behind_nginx_share_sessions_live_events_and_changes() {
    let Some(nginx) = nginx_or_skip() else { return };
    let Some(database) = TestDatabase::create().await else { return };
    let store = Store::connect(&database.url).await.expect("migrate the new database");
    let key = api_key::generate();
    let app_id = store.create_app("Shop", &api_key::hash(&key), 1).await.unwrap().id;
    let hash = password::hash(common::PASSWORD.into()).await.unwrap();
    store.create_admin("admin@example.com", &hash, "admin", 1).await.unwrap();

    // Both instances see the balancer's address as the console's origin.
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let env = [("PUBLIC_ORIGIN", origin.as_str()), ("PUSHMAIL_DOMAIN", common::PUSHMAIL_DOMAIN)];
    let (a, b) = (start(&database.url, &env).await, start(&database.url, &env).await);
    let lb = start_nginx(&nginx, port, &[&a, &b]).await;
    let base = lb.base.clone();

    // Signed in through the balancer; the session holds on both instances.
    let browser = Client::builder().cookie_store(true).build().unwrap();
    let (_, status, _) =
        call(&browser, &base, "/api/auth/login", &[("email", "admin@example.com"), ("password", common::PASSWORD)])
            .await;
    assert!(status.is_success() || status.is_redirection(), "sign-in: {status}");
    let mut answered = BTreeSet::new();
    for _ in 0..6 {
        let (by, status, me) = call(&browser, &base, "/api/auth/me", &[]).await;
        assert_eq!((status, me["email"].as_str()), (StatusCode::OK, Some("admin@example.com")), "on {by}");
        answered.insert(by);
    }
    assert_eq!(answered.len(), 2, "requests alternate between both instances: {answered:?}");

    // A user, and its live stream held open on one instance.
    let sdk = common::client();
    let put = sdk.put(format!("{base}/api/v1/users/ana")).bearer_auth(&key).json(&json!({})).send().await.unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    let ana = store.user_by_external_id(app_id, "ana").await.unwrap().unwrap().id;
    let mut stream = browser.get(format!("{base}/api/live/users/{ana}")).send().await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let watching = upstream(&stream);

    // Events go in through the balancer until one lands on the other instance.
    let mut other = None;
    for n in 0..4 {
        let event = json!([{"type": "purchase", "userID": "ana", "id": format!("e-{n}"), "data": {"n": n}}]);
        let posted = sdk.post(format!("{base}/api/v1/events")).bearer_auth(&key).json(&event).send().await.unwrap();
        assert_eq!(posted.status(), StatusCode::OK);
        if upstream(&posted) != watching {
            other = Some(n);
            break;
        }
    }
    let n = other.expect("an ingest request went to the other instance");
    let wanted = format!(r#"\"n\":{n}"#);
    let mut received = String::new();
    let arrived = tokio::time::timeout(Duration::from_secs(20), async {
        while !received.contains(&wanted) {
            let chunk = stream.chunk().await.expect("read").expect("stream open");
            received.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    assert!(arrived.is_ok(), "the event ingested on the other instance never reached {watching}: {received:?}");

    // Push Mail generated on one instance shows on both.
    let user = ana.to_string();
    let (made_on, status, address) =
        call(&browser, &base, "/api/profile/push-mail/generate", &[("user_id", &user)]).await;
    assert_eq!(status, StatusCode::OK, "{address}");
    let mut seen = BTreeSet::new();
    for _ in 0..4 {
        let (by, status, profile) = call(&browser, &base, "/api/profile/get", &[("user_id", &user)]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(profile["push_mail"], address, "Push Mail made on {made_on}, read on {by}");
        seen.insert(by);
    }
    assert_eq!(seen.len(), 2, "{seen:?}");

    // A segment made and joined on one instance shows on both.
    let (_, status, segment) = call(&browser, &base, "/api/segments/create", &[("name", "VIP")]).await;
    assert_eq!(status, StatusCode::OK, "{segment}");
    let segment_id = segment["id"].to_string();
    let form = [("user_id", user.as_str()), ("segment_ids[0]", segment_id.as_str())];
    let (_, status, _) = call(&browser, &base, "/api/segments/add", &form).await;
    assert_eq!(status, StatusCode::OK);
    let mut seen = BTreeSet::new();
    for _ in 0..4 {
        let (by, status, segments) = call(&browser, &base, "/api/segments/of-user", &[("user_id", &user)]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(segments[0]["name"], "VIP", "on {by}: {segments}");
        seen.insert(by);
    }
    assert_eq!(seen.len(), 2, "{seen:?}");

    drop(stream);
    drop((lb, a, b));
    store.close().await;
    database.finish().await;
}

/// A live stream's text up to its end, the ids it sent, and whether it
/// ended with the reconnect hint; gives up after `bound`.
async fn read_to_end(stream: &mut reqwest::Response, bound: Duration) -> (String, Option<String>, bool) {
    let mut text = String::new();
    let ended = tokio::time::timeout(bound, async {
        while let Ok(Some(chunk)) = stream.chunk().await {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .is_ok();
    let last_id = text.lines().filter_map(|line| line.strip_prefix("id:")).map(|id| id.trim().to_string()).next_back();
    let hinted = text.contains("event: reconnect") || text.contains("event:reconnect");
    (text, last_id, ended && hinted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_during_ingest_loses_nothing_and_the_stream_resumes_on_the_other_instance() {
    let Some(nginx) = nginx_or_skip() else { return };
    let Some(database) = TestDatabase::create().await else { return };
    let store = Store::connect(&database.url).await.expect("migrate the new database");
    let key = api_key::generate();
    let app_id = store.create_app("Shop", &api_key::hash(&key), 1).await.unwrap().id;
    let hash = password::hash(common::PASSWORD.into()).await.unwrap();
    store.create_admin("admin@example.com", &hash, "admin", 1).await.unwrap();
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let env = [("PUBLIC_ORIGIN", origin.as_str()), ("INGEST_RATE_PER_SEC", "100000"), ("SHUTDOWN_DELAY_SECS", "2")];
    let mut instances = vec![start(&database.url, &env).await, start(&database.url, &env).await];
    let lb = start_nginx(&nginx, port, &[&instances[0], &instances[1]]).await;
    let base = lb.base.clone();
    let browser = Client::builder().cookie_store(true).build().unwrap();
    let (_, status, _) =
        call(&browser, &base, "/api/auth/login", &[("email", "admin@example.com"), ("password", common::PASSWORD)])
            .await;
    assert!(status.is_success() || status.is_redirection(), "sign-in: {status}");
    let sdk = common::client();
    let put = sdk.put(format!("{base}/api/v1/users/ana")).bearer_auth(&key).json(&json!({})).send().await.unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    let ana = store.user_by_external_id(app_id, "ana").await.unwrap().unwrap().id;

    // The stream, and the instance it is on: the one to stop.
    let mut stream = browser.get(format!("{base}/api/live/users/{ana}?after=0")).send().await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let watching = upstream(&stream);
    let victim = instances.iter().position(|i| watching.ends_with(&format!(":{}", i.port))).expect("which instance");

    // Four clients send batches with ids through the balancer until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    // (status, the batch's event ids) of every request sent.
    type Answers = Arc<Mutex<Vec<(u16, Vec<String>)>>>;
    let answers: Answers = Arc::default();
    let mut clients = Vec::new();
    for client in 0..4 {
        let (stop, answers, base, key, sdk) = (stop.clone(), answers.clone(), base.clone(), key.clone(), sdk.clone());
        clients.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let ids: Vec<String> = (0..20).map(|i| format!("c{client}-{n}-{i}")).collect();
                let events: Vec<_> = ids.iter().map(|id| json!({"id": id, "type": "load", "userID": "ana"})).collect();
                let sent = sdk.post(format!("{base}/api/v1/events")).bearer_auth(&key).json(&events).send().await;
                let status = sent.map_or(0, |r| r.status().as_u16());
                answers.lock().unwrap().push((status, ids));
                n += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    instances[victim].terminate();
    // Not ready once the signal is handled, while it still answers (the
    // shutdown delay).
    let signalled = std::time::Instant::now();
    loop {
        let ready = sdk.get(format!("{}/readyz", instances[victim].base)).send().await;
        let status = ready.expect("it still answers during the shutdown delay").status();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        assert!(signalled.elapsed() < Duration::from_secs(2), "readiness turns 503 on SIGTERM ({status})");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (text, last_id, hinted) = read_to_end(&mut stream, Duration::from_secs(12)).await;
    assert!(hinted, "the stream ends with a reconnect hint: {}", &text[text.len().saturating_sub(400)..]);
    let exited = instances[victim].exited_within(Duration::from_secs(15)).await;
    let took = exited.expect("the instance exits by itself");
    assert!(took <= Duration::from_secs(13), "exit within the 2 s delay and the 10 s drain: {took:?}");

    // The browser's reconnect, through the balancer, lands on the other instance.
    let mut resumed =
        browser.get(format!("{base}/api/live/users/{ana}")).header("Last-Event-ID", last_id.unwrap_or_default());
    resumed = resumed.header("Accept", "text/event-stream");
    let mut resumed = resumed.send().await.unwrap();
    assert_eq!(resumed.status(), StatusCode::OK);
    assert_ne!(upstream(&resumed), watching, "resumed on the other instance");
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    let marker = json!([{"id": "marker", "type": "after-the-restart", "userID": "ana"}]);
    let posted = sdk.post(format!("{base}/api/v1/events")).bearer_auth(&key).json(&marker).send().await.unwrap();
    assert_eq!(posted.status(), StatusCode::OK);
    let mut received = String::new();
    let arrived = tokio::time::timeout(Duration::from_secs(20), async {
        while !received.contains("after-the-restart") {
            let chunk = resumed.chunk().await.expect("read").expect("stream open");
            received.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    assert!(arrived.is_ok(), "the resumed stream goes on: {received:?}");

    // No error answered to anyone; every acknowledged batch stored, once.
    let answers = answers.lock().unwrap().clone();
    let failed: Vec<u16> = answers.iter().map(|(status, _)| *status).filter(|s| *s != 200).collect();
    assert!(failed.is_empty(), "{} of {} batches failed: {failed:?}", failed.len(), answers.len());
    let stored: HashMap<String, i64> = store.stored_client_ids(app_id).await.unwrap().into_iter().collect();
    for (_, ids) in &answers {
        for id in ids {
            assert_eq!(stored.get(id), Some(&1), "acknowledged event {id} stored once");
        }
    }
    eprintln!("SIGTERM: {} batches of 20 during the test, the instance gone in {took:.1?}", answers.len());
    drop((stream, resumed, lb, instances));
    store.close().await;
    database.finish().await;
}
