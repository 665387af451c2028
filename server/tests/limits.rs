//! Every size limit at its edge: the largest accepted value passes, one
//! more is refused with a 4xx JSON error (and writes nothing); for SMTP,
//! 10 MiB passes and one byte more gets 552. Rates at their edges are in
//! `shared_limits.rs` (sign-in per IP) and `authorization.rs` (sign-in per
//! account, ingest per key).

mod common;

use app::store::Store;
use app::store_test;
use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use server::ingest::events::MAX_EVENTS;
use server::ingest::BODY_LIMIT;
use server::web::SERVER_FN_BODY_LIMIT;

/// `json` padded with spaces (still the same JSON) to exactly `bytes`.
fn padded(json: &Value, bytes: usize) -> Vec<u8> {
    let mut body = json.to_string().into_bytes();
    assert!(body.len() <= bytes);
    body.resize(bytes, b' ');
    body
}

async fn post_raw(app: &TestApp, path: &str, key: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let response = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(key)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn refused(status: StatusCode, body: &Value, expected: StatusCode, what: &str) {
    assert_eq!(status, expected, "{what}: {body}");
    assert!(body["error"].is_string(), "{what}: a JSON error: {body}");
}

store_test!(each_limit_takes_its_largest_value_and_refuses_one_more, |store: Store| async move {
    let (app, _) = TestApp::start_configured(store, |c| c.ingest_rate_per_sec = 1_000_000).await;
    let (_, key) = app.new_app("A").await;
    app.put("/api/v1/users/u1", &key, json!({})).await;
    let one_event = json!([{"type": "tap", "userID": "u1"}]);

    // Ingest body: 2 MiB.
    let (status, body) = post_raw(&app, "/api/v1/events", &key, padded(&one_event, BODY_LIMIT)).await;
    assert_eq!(status, StatusCode::OK, "a body of exactly {BODY_LIMIT} bytes: {body}");
    let (status, body) = post_raw(&app, "/api/v1/events", &key, padded(&one_event, BODY_LIMIT + 1)).await;
    refused(status, &body, StatusCode::PAYLOAD_TOO_LARGE, "one byte over the ingest body limit");

    // Batch: 1000 events.
    let batch = |n: usize| Value::Array(vec![json!({"type": "tap", "userID": "u1"}); n]);
    let (status, body) = app.post("/api/v1/events", &key, batch(MAX_EVENTS)).await;
    assert_eq!((status, body["accepted"].as_u64()), (StatusCode::OK, Some(MAX_EVENTS as u64)), "{body}");
    let (status, body) = app.post("/api/v1/events", &key, batch(MAX_EVENTS + 1)).await;
    refused(status, &body, StatusCode::PAYLOAD_TOO_LARGE, "1001 events");
    let stored = app.store.count_events(app.store.list_apps().await.unwrap()[0].id).await.unwrap();
    assert_eq!(stored, 1 + MAX_EVENTS as i64, "refused batches stored nothing");

    // Segment names: 64 characters (multi-byte ones count once).
    let name = |n: usize| "é".repeat(n);
    let path = |n: usize| {
        format!("/api/v1/users/u1/segments/{}", form_urlencoded::byte_serialize(name(n).as_bytes()).collect::<String>())
    };
    let (status, body) = app.send(Method::PUT, &path(64), Some(&key), None).await;
    assert!(status.is_success(), "a 64-character segment name: {status} {body}");
    let (status, body) = app.send(Method::PUT, &path(65), Some(&key), None).await;
    refused(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "a 65-character segment name");

    // Messages: a 200-character title, a 10,000-character body.
    let send = |title: usize, body: usize| json!({"title": "t".repeat(title), "body": "b".repeat(body)});
    let (status, body) = app.post("/api/v1/users/u1/messages", &key, send(200, 10_000)).await;
    assert_eq!(status, StatusCode::CREATED, "the largest message: {body}");
    let (status, body) = app.post("/api/v1/users/u1/messages", &key, send(201, 1)).await;
    refused(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "a 201-character title");
    let (status, body) = app.post("/api/v1/users/u1/messages", &key, send(1, 10_001)).await;
    refused(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "a 10,001-character body");

    // Server functions: 1 MiB of form.
    app.new_account("admin@example.com", "admin").await;
    let admin = app.browser();
    app.sign_in(&admin, "admin@example.com").await;
    let form_of = |bytes: usize| {
        let mut form = b"search=&padding=".to_vec();
        form.resize(bytes, b'p');
        form
    };
    for (bytes, expected) in
        [(SERVER_FN_BODY_LIMIT, StatusCode::OK), (SERVER_FN_BODY_LIMIT + 1, StatusCode::PAYLOAD_TOO_LARGE)]
    {
        let response = admin
            .post(format!("{}/api/users/list", app.base))
            .header("Origin", &app.base)
            .header("Accept", "application/json")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form_of(bytes))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "a server-function body of {bytes} bytes");
    }

    // Search texts and page sizes: segment search takes 200 characters and
    // answers at most 20.
    let user =
        app.store.user_by_external_id(app.store.list_apps().await.unwrap()[0].id, "u1").await.unwrap().unwrap().id;
    let search = |text: String| vec![("user_id", user.to_string()), ("text", text)];
    for (n, expected) in [(200, StatusCode::OK), (201, StatusCode::UNPROCESSABLE_ENTITY)] {
        let form = search("s".repeat(n));
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = app.server_fn(&admin, "/api/segments/search", &form).await;
        assert_eq!(status, expected, "a {n}-character segment search: {body}");
    }
    for n in 0..30 {
        app.send(Method::PUT, &format!("/api/v1/users/u1/segments/seg{n:02}"), Some(&key), None).await;
    }
    let form = search("seg".into());
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, found) = app.server_fn(&admin, "/api/segments/search", &form).await;
    assert_eq!(status, StatusCode::OK);
    let listed = found["matches"].as_array().map(Vec::len).unwrap_or(0);
    assert!((1..=app::segments::model::SEARCH_LIMIT).contains(&listed), "{listed} segments in one answer: {found}");
});

/// A message of exactly `bytes` (CRLF lines of at most 1,000 bytes).
fn mail_of(bytes: usize) -> Vec<u8> {
    let mut message = b"Subject: edge\r\n\r\n".to_vec();
    while message.len() < bytes {
        let remaining = bytes - message.len();
        let mut length = remaining.min(1000);
        if remaining - length == 1 {
            length -= 1;
        }
        message.extend(std::iter::repeat_n(b'x', length - 2));
        message.extend_from_slice(b"\r\n");
    }
    message
}

store_test!(smtp_takes_a_message_of_the_largest_size_and_refuses_one_byte_more, |store: Store| async move {
    use app::messages::inbound::MAX_MESSAGE_BYTES;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (app, smtp) = TestApp::start_with_mail(store).await;
    let (app_id, _) = app.new_app("A").await;
    let user =
        app.store.upsert_user(app_id, &"u1".parse().unwrap(), &app::store::UserInput::default(), 1).await.unwrap();
    app.store.set_push_token(app_id, user.id, Some("feedface"), 1).await.unwrap();
    let stream = tokio::net::TcpStream::connect(smtp).await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    assert!(lines.next_line().await.unwrap().unwrap().starts_with("220 "));
    let mut say = async |command: &[u8]| {
        write.write_all(command).await.unwrap();
        write.write_all(b"\r\n").await.unwrap();
        lines.next_line().await.unwrap().unwrap()
    };
    assert!(say(b"HELO client.test").await.starts_with("250"));
    let declared = |n: usize| format!("MAIL FROM:<a@example.com> SIZE={n}");
    assert!(say(declared(MAX_MESSAGE_BYTES + 1).as_bytes()).await.starts_with("552"), "declared one byte over");
    for (bytes, expected) in [(MAX_MESSAGE_BYTES, "250"), (MAX_MESSAGE_BYTES + 1, "552")] {
        assert!(say(declared(bytes.min(MAX_MESSAGE_BYTES)).as_bytes()).await.starts_with("250"), "MAIL FROM");
        assert!(say(b"RCPT TO:<feedface@push.test>").await.starts_with("250"));
        assert!(say(b"DATA").await.starts_with("354"));
        let mut message = mail_of(bytes);
        message.extend_from_slice(b".");
        let reply = say(&message).await;
        assert!(reply.starts_with(expected), "a message of {bytes} bytes: {reply}");
    }
    assert_eq!(app.store.list_messages(app_id, user.id, 10).await.unwrap().len(), 1, "only the one at the limit");
});
