//! A real server on a random port, with helpers to call it as the browser
//! (session cookie, same-origin server-function POSTs) and as an SDK (bearer key).
#![allow(dead_code)]

pub mod instances;

use std::time::Duration;

use app::auth::{api_key, password};
use app::store::Store;
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::Value;
use server::config::Config;
use server::web::Server;

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub store: Store,
}

pub const PASSWORD: &str = "correct horse battery";
pub const PUSHMAIL_DOMAIN: &str = "push.test";
pub const INBOUND_SECRET: &str = "webhook-secret-123";

/// No request in a test takes this long: a hung server fails the test
/// (printing the server's log) instead of stalling the whole run.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The server's log, captured per test and shown when the test fails.
fn capture_server_log() {
    watch_for_server_panics();
    let filter = tracing_subscriber::EnvFilter::try_from_env("TEST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
}

/// Panics of the server (not of the tests' own asserts), process-wide: a
/// server-render task that panics leaves its page waiting forever, and the
/// log must hold none. Checked when each [`TestApp`] is dropped.
static SERVER_PANICS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn watch_for_server_panics() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_test = info
                .location()
                .is_some_and(|l| l.file().starts_with("server/tests/") || l.file().starts_with("tests/"));
            if !in_test {
                SERVER_PANICS.lock().unwrap_or_else(|e| e.into_inner()).push(info.to_string());
            }
            previous(info);
        }));
    });
}

/// Server panics seen so far (and not yet reported by a dropped [`TestApp`]).
pub fn server_panics() -> usize {
    SERVER_PANICS.lock().unwrap_or_else(|e| e.into_inner()).len()
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let panics = std::mem::take(&mut *SERVER_PANICS.lock().unwrap_or_else(|e| e.into_inner()));
        if !panics.is_empty() && !std::thread::panicking() {
            panic!("the server panicked:\n{}", panics.join("\n"));
        }
    }
}

/// A plain client that gives up on a hung server.
pub fn client() -> Client {
    Client::builder().timeout(REQUEST_TIMEOUT).build().unwrap()
}

impl TestApp {
    pub async fn start(store: Store) -> TestApp {
        capture_server_log();
        let mut config = Config::for_database("unused://");
        config.site_addr = "127.0.0.1:0".parse().unwrap();
        let addr = Server::bind_with_store(&config, store.clone()).await.expect("bind").spawn();
        TestApp { base: format!("http://{addr}"), client: client(), store }
    }

    /// Starts the app with the SMTP listener and the inbound-mail webhook on;
    /// returns it with the SMTP address.
    pub async fn start_with_mail(store: Store) -> (TestApp, std::net::SocketAddr) {
        Self::start_configured(store, |_| {}).await
    }

    /// [`start_with_mail`](Self::start_with_mail) with `adjust` applied to the configuration.
    pub async fn start_configured(store: Store, adjust: impl FnOnce(&mut Config)) -> (TestApp, std::net::SocketAddr) {
        capture_server_log();
        let mut config = Config::for_database("unused://");
        config.site_addr = "127.0.0.1:0".parse().unwrap();
        config.pushmail_domain = PUSHMAIL_DOMAIN.into();
        config.inbound_mail_secret = Some(INBOUND_SECRET.into());
        // A free port for SMTP (port 0 means "off" in the config).
        config.smtp_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        adjust(&mut config);
        let server = Server::bind_with_store(&config, store.clone()).await.expect("bind");
        let (addr, smtp) = server.spawn_with_smtp();
        let app = TestApp { base: format!("http://{addr}"), client: client(), store };
        (app, smtp.expect("smtp listener"))
    }

    /// Starts the app with its metrics listener on a free port; returns it
    /// with the metrics address.
    pub async fn start_with_metrics(store: Store) -> (TestApp, std::net::SocketAddr) {
        capture_server_log();
        let mut config = Config::for_database("unused://");
        config.site_addr = "127.0.0.1:0".parse().unwrap();
        config.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
        let server = Server::bind_with_store(&config, store.clone()).await.expect("bind");
        let metrics = server.metrics_addr().expect("a metrics listener");
        let addr = server.spawn();
        (TestApp { base: format!("http://{addr}"), client: client(), store }, metrics)
    }

    /// Creates an app and returns (its id, its API key).
    pub async fn new_app(&self, name: &str) -> (i64, String) {
        let key = api_key::generate();
        let app = self.store.create_app(name, &api_key::hash(&key), 1).await.unwrap();
        (app.id, key)
    }

    pub async fn new_account(&self, email: &str, role: &str) {
        let hash = password::hash(PASSWORD.into()).await.unwrap();
        self.store.create_admin(email, &hash, role, 1).await.unwrap();
    }

    /// A browser-like client with its own cookie jar.
    pub fn browser(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()
            .unwrap()
    }

    /// Signs `client` in; panics unless the server accepts.
    pub async fn sign_in(&self, client: &Client, email: &str) {
        let (status, body) =
            self.server_fn(client, "/api/auth/login", &[("email", email), ("password", PASSWORD)]).await;
        assert!(status.is_success() || status.is_redirection(), "sign-in of {email}: {status} {body}");
    }

    /// POSTs a server function the way the page does (form-encoded, same origin).
    pub async fn server_fn(&self, client: &Client, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = client
            .post(format!("{}{path}", self.base))
            .header("Origin", &self.base)
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("server fn request");
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn put(&self, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::PUT, path, Some(key), Some(&body)).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, Some(key), Some(&body)).await
    }
}

/// How long [`EventStream::next`] waits for an event: a limit that only
/// turns a hang into a failure (no timing asserts).
pub const SSE_PATIENCE: Duration = Duration::from_secs(20);

/// One `text/event-stream` response, read event by event.
pub struct EventStream {
    response: Response,
    buffer: String,
}

/// One server-sent event: its `event`, `id` and JSON `data`.
#[derive(Debug)]
pub struct Sse {
    pub event: String,
    pub id: Option<String>,
    pub data: Value,
}

impl EventStream {
    /// GETs `url` as an `EventSource` does (with `Last-Event-ID` when given);
    /// panics unless it answers 200 with an event stream.
    pub async fn open(client: &Client, url: &str, last_event_id: Option<&str>) -> EventStream {
        let mut request = client.get(url).header("Accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.expect("open stream");
        assert_eq!(response.status(), StatusCode::OK, "stream status");
        let kind = response.headers()["content-type"].to_str().unwrap().to_string();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        EventStream::of(response)
    }

    /// Reads a response already known to be a stream.
    pub fn of(response: Response) -> EventStream {
        EventStream { response, buffer: String::new() }
    }

    /// The next event (comments and keep-alives skipped); fails after [`SSE_PATIENCE`].
    pub async fn next(&mut self) -> Sse {
        tokio::time::timeout(SSE_PATIENCE, self.read()).await.expect("an event within the patience limit")
    }

    /// The next event, however long it takes. Presence (who else has the
    /// profile open, sent on opening and on changes) is skipped: see
    /// [`EventStream::next_presence`].
    pub async fn read(&mut self) -> Sse {
        loop {
            let event = self.read_any().await;
            if event.event != "presence" {
                return event;
            }
        }
    }

    /// The next `presence` event's viewers, as "email (role)"; fails after
    /// `patience`.
    pub async fn next_presence(&mut self, patience: Duration) -> Vec<String> {
        let viewers = tokio::time::timeout(patience, async {
            loop {
                let event = self.read_any().await;
                if event.event == "presence" {
                    return event.data;
                }
            }
        })
        .await
        .expect("a presence event within the patience limit");
        let viewers = viewers.as_array().expect("a list of viewers");
        viewers.iter().map(|v| format!("{} ({})", v["email"].as_str().unwrap(), v["role"].as_str().unwrap())).collect()
    }

    /// The next event of any kind.
    async fn read_any(&mut self) -> Sse {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut event, mut id, mut data) = (String::from("message"), None, String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("id:") {
                        id = Some(v.trim().to_string());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if data.is_empty() {
                    continue; // a comment (keep-alive)
                }
                return Sse { event, id, data: serde_json::from_str(&data).expect("JSON data") };
            }
            let chunk = self.response.chunk().await.expect("read stream").expect("stream still open");
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next event, or `None` once the server ends the stream.
    pub async fn read_until_end(&mut self) -> Option<Sse> {
        loop {
            if self.buffer.contains("\n\n") {
                let event = self.read_any().await;
                if event.event == "presence" {
                    continue;
                }
                return Some(event);
            }
            let chunk = self.response.chunk().await.ok().flatten()?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// Asserts nothing but keep-alives arrive for a short while.
    pub async fn expect_quiet(&mut self, wait: Duration) {
        if let Ok(event) = tokio::time::timeout(wait, self.read()).await {
            panic!("unexpected event {event:?}");
        }
    }
}
