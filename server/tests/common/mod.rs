//! A real server on a random port, with helpers to call it as the browser
//! (session cookie, same-origin server-function POSTs) and as an SDK (bearer key).
#![allow(dead_code)]

pub mod instances;

use app::auth::{api_key, password};
use app::store::Store;
use reqwest::{Client, Method, StatusCode};
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
