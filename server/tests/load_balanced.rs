//! Past one machine, as deployed: two server instances on one PostgreSQL
//! database behind a real load balancer (nginx, round robin). Signed in
//! through it, the session holds on both instances; an event ingested
//! through one instance reaches a profile's live stream held by the other;
//! Push Mail and segment changes made on one show on the other. nginx adds
//! `X-Upstream` to each answer, so the test knows which instance answered
//! and checks that both did.
//!
//! Needs `nginx` (Debian's `nginx-light`; `.ci/run` installs it) and
//! PostgreSQL; without them it says so and passes, except under `CI=true`.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
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
        if reqwest::get(format!("{}/login", nginx.base)).await.is_ok_and(|r| r.status() == StatusCode::OK) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_behind_nginx_share_sessions_live_events_and_changes() {
    let Some(nginx) = nginx_binary() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: nginx is required (apt-get install nginx-light)"
        );
        eprintln!("!!! SKIPPED the load-balanced test: nginx is not installed");
        return;
    };
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
