//! Push Mail end to end: generate an address, send mail to it with a real
//! SMTP client (lettre) and through the inbound webhook, see the private
//! message; revoked and unknown addresses are refused. Both databases.

mod common;

use app::store::{Store, UserInput};
use app::store_test;
use common::{TestApp, INBOUND_SECRET, PUSHMAIL_DOMAIN};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use reqwest::StatusCode;
use serde_json::Value;

async fn signed_in_admin(app: &TestApp) -> reqwest::Client {
    app.new_account("admin@example.com", "admin").await;
    let browser = app.browser();
    app.sign_in(&browser, "admin@example.com").await;
    browser
}

fn mail_to(address: &str, subject: &str) -> Message {
    Message::builder()
        .from("Ana Sender <ana@example.com>".parse().unwrap())
        .to(address.parse().unwrap())
        .subject(subject)
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain("Hello from a real SMTP client.\nSecond line.".to_string()))
                .singlepart(
                    Attachment::new("notes.txt".into()).body(b"twelve bytes".to_vec(), ContentType::TEXT_PLAIN),
                ),
        )
        .unwrap()
}

store_test!(smtp_mail_to_a_generated_address_becomes_a_private_message, |store: Store| async move {
    let (app, smtp) = TestApp::start_with_mail(store).await;
    let (app_id, _) = app.new_app("A").await;
    let user = app
        .store
        .upsert_user(app_id, &"u1".parse().unwrap(), &UserInput { user_name: Some("Ana"), email: None }, 1)
        .await
        .unwrap();
    let browser = signed_in_admin(&app).await;
    let user_form = [("user_id", user.id.to_string())];
    let list_form = [("user_id", user.id.to_string()), ("limit", "20".to_string())];
    let list_form: Vec<(&str, &str)> = list_form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let form: Vec<(&str, &str)> = user_form.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let (status, address) = app.server_fn(&browser, "/api/profile/push-mail/generate", &form).await;
    assert_eq!(status, StatusCode::OK, "{address}");
    let address = address.as_str().unwrap().to_string();
    let (token, domain) = address.split_once('@').unwrap();
    assert_eq!(domain, PUSHMAIL_DOMAIN);
    assert!(token.len() >= 32, "at least 128 bits: {token}");

    let mailer =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.ip().to_string()).port(smtp.port()).build();
    mailer.send(mail_to(&address, "Order #42")).await.expect("SMTP delivery");

    let (_, page) = app.server_fn(&browser, "/api/messages/list", &list_form).await;
    let messages = page["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message = &messages[0];
    assert_eq!(message["title"], "Order #42");
    assert_eq!(message["source"], "push mail");
    assert_eq!(message["sender"], "Ana Sender <ana@example.com>");
    assert!(message["preview"].as_str().unwrap().contains("Hello from a real SMTP client."), "{message}");
    assert_eq!(message["attachments"], serde_json::json!([{"name": "notes.txt", "size": 12}]));

    // Unknown addresses are refused at RCPT.
    let unknown = format!("0000000000000000000000000000000000000000@{PUSHMAIL_DOMAIN}");
    let err = mailer.send(mail_to(&unknown, "nope")).await.unwrap_err();
    assert!(err.is_permanent(), "{err}");
    let elsewhere = mailer.send(mail_to(&format!("{token}@other.example"), "relay?")).await.unwrap_err();
    assert!(elsewhere.is_permanent(), "no relaying: {elsewhere}");

    // Regenerate: the old address stops working, the new one works.
    let (_, new_address) = app.server_fn(&browser, "/api/profile/push-mail/generate", &form).await;
    let new_address = new_address.as_str().unwrap().to_string();
    assert_ne!(new_address, address);
    assert!(mailer.send(mail_to(&address, "old")).await.unwrap_err().is_permanent());
    mailer.send(mail_to(&new_address, "new")).await.expect("new address works");

    // Revoke: refused from then on.
    let (status, _) = app.server_fn(&browser, "/api/profile/push-mail/revoke", &form).await;
    assert_eq!(status, StatusCode::OK);
    assert!(mailer.send(mail_to(&new_address, "after revoke")).await.unwrap_err().is_permanent());
    let (_, page) = app.server_fn(&browser, "/api/messages/list", &list_form).await;
    let titles: Vec<&str> = page["messages"].as_array().unwrap().iter().map(|m| m["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["new", "Order #42"], "newest first; refused mail stored nothing");
    let (_, profile) = app.server_fn(&browser, "/api/profile/get", &form).await;
    assert_eq!(profile["push_mail"], Value::Null);
});

store_test!(oversize_and_out_of_order_smtp_is_refused, |store: Store| async move {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (app, smtp) = TestApp::start_with_mail(store).await;
    let (app_id, _) = app.new_app("A").await;
    let user = app.store.upsert_user(app_id, &"u1".parse().unwrap(), &UserInput::default(), 1).await.unwrap();
    app.store.set_push_token(app_id, user.id, Some("feedface"), 1).await.unwrap();

    let stream = tokio::net::TcpStream::connect(smtp).await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    assert!(lines.next_line().await.unwrap().unwrap().starts_with("220 "), "greeting");
    let mut say = async |command: &str| {
        write.write_all(format!("{command}\r\n").as_bytes()).await.unwrap();
        let mut reply = lines.next_line().await.unwrap().unwrap();
        while reply.as_bytes().get(3) == Some(&b'-') {
            reply = lines.next_line().await.unwrap().unwrap();
        }
        reply
    };
    assert!(say("EHLO client.test").await.starts_with("250 "));
    assert!(say("RCPT TO:<feedface@push.test>").await.starts_with("503"), "RCPT before MAIL");
    assert!(say("MAIL FROM:<a@example.com> SIZE=99999999").await.starts_with("552"), "declared oversize");
    assert!(say("MAIL FROM:<a@example.com>").await.starts_with("250"));
    assert!(say("DATA").await.starts_with("554"), "DATA without recipients");
    assert!(say("RCPT TO:<FEEDFACE@PUSH.TEST>").await.starts_with("250"), "addresses are case-insensitive");
    assert!(say("DATA").await.starts_with("354"));
    assert!(say("Subject: dots\r\n\r\n..leading dot\r\n.").await.starts_with("250"));
    assert!(say("QUIT").await.starts_with("221"));
    let messages = app.store.list_messages(app_id, user.id, 10).await.unwrap();
    assert_eq!(messages[0].preview, ".leading dot", "dot-stuffing undone");
});

store_test!(the_inbound_webhook_takes_raw_mail_with_the_secret, |store: Store| async move {
    let (app, _) = TestApp::start_with_mail(store).await;
    let (app_id, _) = app.new_app("A").await;
    let user = app.store.upsert_user(app_id, &"u1".parse().unwrap(), &UserInput::default(), 1).await.unwrap();
    app.store.set_push_token(app_id, user.id, Some("cafe01"), 1).await.unwrap();
    let raw = "From: Bob <bob@example.com>\r\nTo: cafe01@push.test\r\nSubject: Via webhook\r\nContent-Type: text/html\r\n\r\n<p>Hi <b>there</b></p>\r\n";
    let post = |secret: Option<&str>, body: &str, query: &str| {
        let mut request = app.client.post(format!("{}/api/v1/inbound/mail{query}", app.base)).body(body.to_string());
        if let Some(secret) = secret {
            request = request.bearer_auth(secret);
        }
        request.send()
    };
    assert_eq!(post(None, raw, "").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(post(Some("wrong"), raw, "").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let created = post(Some(INBOUND_SECRET), raw, "").await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let unknown = post(Some(INBOUND_SECRET), raw, "?to=beef@push.test").await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(unknown.json::<Value>().await.unwrap()["field"], "to");
    let garbage = post(Some(INBOUND_SECRET), "", "?to=cafe01@push.test").await.unwrap();
    assert_eq!(garbage.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let messages = app.store.list_messages(app_id, user.id, 10).await.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!((messages[0].title.as_str(), messages[0].sender.as_str()), ("Via webhook", "Bob <bob@example.com>"));
    assert_eq!(messages[0].preview, "Hi there", "HTML converted to text");
});
