//! Push Mail against a hostile sender, over a raw SMTP socket: no smuggled
//! second message, no delivery to an address revoked after RCPT, header
//! values stored clean, the envelope sender kept apart, and long bodies kept
//! out of the messages list. Both databases.

mod common;

use app::store::{Store, UserInput};
use app::store_test;
use common::TestApp;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// A line-level SMTP client: sends raw bytes, reads whole (multi-line) replies.
struct RawSmtp {
    lines: Lines<BufReader<OwnedReadHalf>>,
    write: OwnedWriteHalf,
}

impl RawSmtp {
    async fn connect(addr: std::net::SocketAddr) -> RawSmtp {
        let (read, write) = tokio::net::TcpStream::connect(addr).await.unwrap().into_split();
        let mut smtp = RawSmtp { lines: BufReader::new(read).lines(), write };
        assert!(smtp.reply().await.starts_with("220 "), "greeting");
        smtp
    }

    async fn reply(&mut self) -> String {
        let mut reply = self.lines.next_line().await.unwrap().unwrap();
        while reply.as_bytes().get(3) == Some(&b'-') {
            reply = self.lines.next_line().await.unwrap().unwrap();
        }
        reply
    }

    /// Sends `raw` as is (no line ending added) and reads one reply.
    async fn send_raw(&mut self, raw: &str) -> String {
        self.write.write_all(raw.as_bytes()).await.unwrap();
        self.reply().await
    }

    async fn say(&mut self, command: &str) -> String {
        self.send_raw(&format!("{command}\r\n")).await
    }
}

async fn user_with_token(app: &TestApp, token: &str) -> (i64, i64) {
    let (app_id, _) = app.new_app("A").await;
    let user = app.store.upsert_user(app_id, &"u1".parse().unwrap(), &UserInput::default(), 1).await.unwrap();
    app.store.set_push_token(app_id, user.id, Some(token), 1).await.unwrap();
    (app_id, user.id)
}

store_test!(a_bare_lf_dot_does_not_end_data_or_smuggle_a_second_message, |store: Store| async move {
    let (app, smtp) = TestApp::start_with_mail(store).await;
    let (app_id, user) = user_with_token(&app, "feedface").await;
    let mut client = RawSmtp::connect(smtp).await;
    assert!(client.say("EHLO client.test").await.starts_with("250"));
    assert!(client.say("MAIL FROM:<real@example.com>").await.starts_with("250"));
    assert!(client.say("RCPT TO:<feedface@push.test>").await.starts_with("250"));
    assert!(client.say("DATA").await.starts_with("354"));
    let smuggled = "From: real@example.com\r\nSubject: first\r\n\r\nbody\n.\nMAIL FROM:<ceo@example.com>\r\n\
                    RCPT TO:<feedface@push.test>\r\nDATA\r\nFrom: ceo@example.com\r\nSubject: forged\r\n\r\nPay now\r\n.\r\n";
    let reply = client.send_raw(smuggled).await;
    assert!(reply.starts_with("250"), "{reply}");
    assert!(client.say("QUIT").await.starts_with("221"));

    let messages = app.store.list_messages(app_id, user, 10).await.unwrap();
    assert_eq!(messages.len(), 1, "one DATA, one message: {messages:?}");
    assert_eq!(messages[0].title, "first");
    assert_eq!(messages[0].sender, "real@example.com");
    assert!(messages[0].preview.contains("MAIL FROM:<ceo@example.com>"), "the rest is content: {:?}", messages[0]);
});

store_test!(an_address_revoked_after_rcpt_gets_nothing, |store: Store| async move {
    let (app, smtp) = TestApp::start_with_mail(store).await;
    let (app_id, user) = user_with_token(&app, "c0ffee").await;
    let mut client = RawSmtp::connect(smtp).await;
    assert!(client.say("HELO client.test").await.starts_with("250"));
    assert!(client.say("MAIL FROM:<a@example.com>").await.starts_with("250"));
    assert!(client.say("RCPT TO:<c0ffee@push.test>").await.starts_with("250"));
    app.store.set_push_token(app_id, user, None, 2).await.unwrap();
    assert!(client.say("DATA").await.starts_with("354"));
    let reply = client.send_raw("Subject: late\r\n\r\nhello\r\n.\r\n").await;
    assert!(reply.starts_with("550"), "revoked between RCPT and the end of DATA: {reply}");
    assert!(app.store.list_messages(app_id, user, 10).await.unwrap().is_empty());
    let audit = app.store.recent_audit(10).await.unwrap();
    assert!(!audit.iter().any(|e| e.action == "push mail received"), "no audit for nothing stored: {audit:?}");
});

store_test!(header_values_are_stored_clean_with_the_envelope_apart, |store: Store| async move {
    let (app, smtp) = TestApp::start_with_mail(store).await;
    let (app_id, user) = user_with_token(&app, "abcdef01").await;
    let mut client = RawSmtp::connect(smtp).await;
    assert!(client.say("EHLO client.test").await.starts_with("250"));
    assert!(client.say("MAIL FROM:<bounce@sender.example>").await.starts_with("250"));
    assert!(client.say("RCPT TO:<abcdef01@push.test>").await.starts_with("250"));
    assert!(client.say("DATA").await.starts_with("354"));
    let mail = "From: =?utf-8?q?Admin=0D=0AX-Injected:_yes?= <admin@example.com>\r\n\
                Subject: =?utf-8?q?Invoice=0D=0ABcc:_x=00=07=1B[2J=E2=80=AEfdp.exe?=\r\n\r\nHi\r\n.\r\n";
    assert!(client.send_raw(mail).await.starts_with("250"));

    let message = &app.store.list_messages(app_id, user, 10).await.unwrap()[0];
    assert_eq!(message.sender, "Admin X-Injected: yes <admin@example.com>");
    assert_eq!(message.title, "Invoice Bcc: x[2Jfdp.exe");
    for text in [&message.title, &message.sender] {
        assert!(!text.chars().any(|c| c.is_control() || app::text::is_bidi_control(c)), "{text:?}");
    }
    let audit = app.store.recent_audit(10).await.unwrap();
    let entry = audit.iter().find(|e| e.action == "push mail received").expect("audited");
    assert_eq!(entry.actor, "push mail", "the unauthenticated From is not an actor");
    assert!(entry.detail.contains("<bounce@sender.example>"), "envelope sender recorded: {}", entry.detail);
});

store_test!(long_bodies_are_previewed_in_the_list_and_fetched_whole, |store: Store| async move {
    let (app, smtp) = TestApp::start_with_mail(store).await;
    let (_, user) = user_with_token(&app, "b0d1e5").await;
    let body = "x".repeat(300_000);
    let mut client = RawSmtp::connect(smtp).await;
    assert!(client.say("EHLO client.test").await.starts_with("250"));
    assert!(client.say("MAIL FROM:<a@example.com>").await.starts_with("250"));
    assert!(client.say("RCPT TO:<b0d1e5@push.test>").await.starts_with("250"));
    assert!(client.say("DATA").await.starts_with("354"));
    let lines: Vec<&str> = (0..body.len()).step_by(1000).map(|i| &body[i..i + 1000]).collect();
    let reply = client.send_raw(&format!("Subject: big\r\n\r\n{}\r\n.\r\n", lines.join("\r\n"))).await;
    assert!(reply.starts_with("250"), "{reply}");

    app.new_account("admin@example.com", "admin").await;
    let browser = app.browser();
    app.sign_in(&browser, "admin@example.com").await;
    let user_id = user.to_string();
    let (status, page) = app.server_fn(&browser, "/api/messages/list", &[("user_id", &user_id), ("limit", "20")]).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    let list = &page["messages"];
    let text = list.to_string();
    assert!(text.len() < 5_000, "the list carries a preview, not {} bytes", text.len());
    assert_eq!(list[0]["truncated"], true);
    assert_eq!(list[0]["preview"].as_str().unwrap().chars().count(), 500);
    let id = list[0]["id"].to_string();
    let (status, whole) =
        app.server_fn(&browser, "/api/messages/body", &[("user_id", &user_id), ("message_id", &id)]).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert_eq!(whole.as_str().unwrap().replace("\r\n", "").replace('\n', ""), body);
    let (status, _) =
        app.server_fn(&browser, "/api/messages/body", &[("user_id", &user_id), ("message_id", "999999")]).await;
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
});
