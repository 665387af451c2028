//! Slow and idle clients are cut off, and one client cannot hold the
//! server's connections: half-sent request heads, idle kept-alive
//! connections and stalled bodies are closed by the server after the client
//! timeout, while a normal client keeps being answered; past the per-client
//! cap a client's new connections are closed at once (behind a trusted
//! proxy: its forwarded address's requests get 429). The connection layer
//! holds no data, so SQLite alone.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::TestApp;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Turns a hang into a failure; never a timing assert (the server's own
/// deadline here is 1 s).
const PATIENCE: Duration = Duration::from_secs(20);

async fn start(
    adjust: impl FnOnce(&mut server::config::Config),
) -> (TestApp, SocketAddr, app::store::testing::TestStore) {
    let db = app::store::testing::sqlite().await;
    let (app, _) = TestApp::start_configured(db.store.clone(), |config| {
        config.client_timeout_secs = 1;
        adjust(config);
    })
    .await;
    let addr: SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();
    (app, addr, db)
}

/// A connection from the loopback address `from` (127.0.0.x: each a
/// different client to the server).
async fn connect_from(from: [u8; 4], to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((from, 0))).unwrap();
    socket.connect(to).await.unwrap()
}

/// Waits for the server to close the connection; returns what it sent first.
async fn closed_by_server(mut stream: TcpStream) -> String {
    let mut received = Vec::new();
    let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut received)).await;
    assert!(read.is_ok(), "the server closes the connection");
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed_while_others_are_answered() {
    let (app, addr, _db) = start(|_| {}).await;
    let mut held = Vec::new();
    // Half a request line, from 200 clients.
    for n in 0..200u16 {
        let mut stream = connect_from([127, 0, 1 + (n / 250) as u8, 1 + (n % 250) as u8], addr).await;
        stream.write_all(b"GET /login HT").await.unwrap();
        held.push(stream);
    }
    // An idle connection after a finished request.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /login HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    // A body that stops half-way.
    let mut stalled = TcpStream::connect(addr).await.unwrap();
    let head = "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                Content-Length: 100\r\n\r\nemail=a";
    stalled.write_all(head.as_bytes()).await.unwrap();

    // Meanwhile a normal client is answered.
    for _ in 0..5 {
        let page = app.client.get(format!("{}/login", app.base)).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
    }
    let closes = held.into_iter().map(|stream| tokio::spawn(closed_by_server(stream)));
    for close in closes {
        close.await.unwrap();
    }
    closed_by_server(idle).await;
    let answer = closed_by_server(stalled).await;
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 4"), "a stalled body is not processed: {answer}");
    let page = app.client.get(format!("{}/login", app.base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "still serving");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_holds_at_most_its_share_of_connections() {
    let (app, addr, _db) = start(|config| {
        config.client_timeout_secs = 30;
        config.max_connections_per_client = 5;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..5 {
        let mut stream = connect_from([127, 0, 0, 2], addr).await;
        stream.write_all(b"GET /login HT").await.unwrap();
        held.push(stream);
    }
    // The client's sixth connection is closed at once, unanswered.
    let mut sixth = connect_from([127, 0, 0, 2], addr).await;
    let _ = sixth.write_all(b"GET /login HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(closed_by_server(sixth).await, "", "no answer past the cap");
    // Another client is served.
    let page = app.client.get(format!("{}/login", app.base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    // A closed connection gives its place back.
    drop(held.pop());
    let answered = tokio::time::timeout(PATIENCE, async {
        loop {
            let mut stream = connect_from([127, 0, 0, 2], addr).await;
            let _ = stream.write_all(b"GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
            let answer = closed_by_server(stream).await;
            if answer.starts_with("HTTP/1.1 200") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(answered.is_ok(), "a freed place is given to the client's next connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_the_cap_is_per_forwarded_address() {
    let (app, addr, _db) = start(|config| {
        config.client_timeout_secs = 30;
        config.max_connections_per_client = 2;
        config.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    // Two requests from 203.0.113.9 stall in their bodies (the proxy's
    // connections themselves are not capped).
    let origin = app.base.clone();
    let stalled_from = |client: &'static str| {
        let origin = origin.clone();
        async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let head = format!(
                "POST /api/users/list HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\nX-Forwarded-For: {client}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nsearch=a"
            );
            stream.write_all(head.as_bytes()).await.unwrap();
            stream
        }
    };
    let _first = stalled_from("203.0.113.9").await;
    let _second = stalled_from("203.0.113.9").await;
    // Once the server holds both, the address's next request is refused.
    let refused = tokio::time::timeout(PATIENCE, async {
        loop {
            let third = app.client.get(format!("{}/login", app.base)).header("X-Forwarded-For", "203.0.113.9");
            if third.send().await.unwrap().status() == StatusCode::TOO_MANY_REQUESTS {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(refused.is_ok(), "a forwarded address past its cap gets 429");
    let other =
        app.client.get(format!("{}/login", app.base)).header("X-Forwarded-For", "198.51.100.4").send().await.unwrap();
    assert_eq!(other.status(), StatusCode::OK, "another forwarded client is served");
}
