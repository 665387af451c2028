//! Private messages with per-device delivery, on SQLite and PostgreSQL:
//! sending queues one delivery per active device; reading the inbox marks
//! delivered; opening marks opened (idempotently); nothing crosses apps.

use app::error::AppError;
use app::messages::model::DeliveryStatus;
use app::messages::service::{check_message, send};
use app::model::devices::DeviceAttributes;
use app::store::{DeviceInput, Opened, Store, UserInput};
use app::store_test;
use app::test_fixtures::new_app;

async fn user_with_devices(store: &Store, app: i64, user: &str, devices: &[&str]) -> (i64, Vec<i64>) {
    let input = UserInput { user_name: Some(user), email: None };
    let user_id = store.upsert_user(app, &user.parse().unwrap(), &input, 1).await.unwrap().id;
    let mut ids = Vec::new();
    for device in devices {
        let input = DeviceInput {
            user_external_id: Some(user.parse().unwrap()),
            attributes: DeviceAttributes {
                platform: "Android".into(),
                device_string: Some(device.to_string()),
                ..Default::default()
            },
            ..Default::default()
        };
        ids.push(store.upsert_device(app, &device.parse().unwrap(), &input, 1).await.unwrap());
    }
    (user_id, ids)
}

store_test!(a_message_is_queued_per_device_then_delivered_then_opened, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let (ana, devices) = user_with_devices(&store, app, "ana", &["phone", "tablet"]).await;
    let (phone, tablet) = (devices[0], devices[1]);
    let first = send(&store, app, ana, "Hello", "First", "dashboard", "admin@example.com").await.unwrap();
    let second = send(&store, app, ana, "Again", "Second", "api", "api").await.unwrap();

    let listed = store.list_messages(app, ana, 10).await.unwrap();
    assert_eq!(listed.iter().map(|m| m.id).collect::<Vec<_>>(), [second, first], "newest first");
    for message in &listed {
        assert_eq!(message.deliveries.len(), 2, "one per device");
        assert!(message.deliveries.iter().all(|d| d.status == DeliveryStatus::Queued && d.delivered_at.is_none()));
    }
    let audit = store.recent_audit(1).await.unwrap();
    assert_eq!((audit[0].action.as_str(), audit[0].user_id), ("sent private message", Some(ana)));

    // The phone opens the first before reading its inbox; then reads it.
    assert_eq!(store.open_message(app, phone, first, 50).await.unwrap(), Opened::Now { user_id: ana });
    assert_eq!(store.open_message(app, phone, first, 60).await.unwrap(), Opened::Already, "idempotent");
    let (inbox, told) = store.read_inbox(app, phone, 10, 100).await.unwrap();
    assert_eq!(told, Some(ana), "the second went from queued to delivered");
    assert_eq!(inbox.iter().map(|m| m.id).collect::<Vec<_>>(), [second, first], "unread first");
    assert_eq!(inbox[0].status, DeliveryStatus::Delivered);
    assert_eq!(inbox[0].delivered_at, Some(100));
    assert_eq!(
        (inbox[1].status, inbox[1].opened_at, inbox[1].delivered_at),
        (DeliveryStatus::Opened, Some(50), Some(50))
    );
    // Reading again changes nothing.
    let (_, told) = store.read_inbox(app, phone, 10, 200).await.unwrap();
    assert_eq!(told, None);

    let listed = store.list_messages(app, ana, 10).await.unwrap();
    let status_of = |message: i64, device: i64| {
        listed
            .iter()
            .find(|m| m.id == message)
            .unwrap()
            .deliveries
            .iter()
            .find(|d| d.device_id == device)
            .unwrap()
            .status
    };
    assert_eq!(status_of(first, phone), DeliveryStatus::Opened);
    assert_eq!(status_of(second, phone), DeliveryStatus::Delivered);
    assert_eq!(status_of(first, tablet), DeliveryStatus::Queued, "the tablet has not read its inbox");
    assert_eq!(listed[0].deliveries[0].device_name, "phone");
});

store_test!(nothing_crosses_apps_or_devices, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let other = new_app(&store, "B").await;
    let (ana, devices) = user_with_devices(&store, app, "ana", &["phone"]).await;
    let (_, foreign) = user_with_devices(&store, other, "zed", &["zphone"]).await;
    let (_, bob_devices) = user_with_devices(&store, app, "bob", &["bphone"]).await;
    let message = send(&store, app, ana, "Hi", "Text", "api", "api").await.unwrap();

    assert_eq!(store.open_message(other, devices[0], message, 1).await.unwrap(), Opened::NotFound, "another app");
    assert_eq!(store.open_message(other, foreign[0], message, 1).await.unwrap(), Opened::NotFound);
    assert_eq!(store.open_message(app, bob_devices[0], message, 1).await.unwrap(), Opened::NotFound, "another device");
    assert!(store.read_inbox(other, devices[0], 10, 1).await.unwrap().0.is_empty(), "another app reads nothing");
    assert!(store.read_inbox(app, bob_devices[0], 10, 1).await.unwrap().0.is_empty());
    let listed = store.list_messages(app, ana, 10).await.unwrap();
    assert_eq!(listed[0].deliveries[0].status, DeliveryStatus::Queued, "untouched by the refused calls");
});

store_test!(sending_checks_its_input_and_the_user, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let (ana, _) = user_with_devices(&store, app, "ana", &[]).await;
    for (title, body, field) in [
        ("", "text", "title"),
        ("   ", "text", "title"),
        ("Title", " \n ", "body"),
        (&"t".repeat(201) as &str, "text", "title"),
        ("Title", &"b".repeat(10_001) as &str, "body"),
    ] {
        match send(&store, app, ana, title, body, "api", "api").await {
            Err(AppError::Invalid { field: f, .. }) => assert_eq!(f.as_deref(), Some(field)),
            other => panic!("{title:?}/{} chars: {other:?}", body.len()),
        }
    }
    assert!(store.list_messages(app, ana, 10).await.unwrap().is_empty(), "nothing written");
    assert_eq!(check_message(" Hi\r\nthere ", "line 1\nline 2").unwrap(), ("Hi there".into(), "line 1\nline 2".into()));
    // Edges are accepted.
    send(&store, app, ana, &"t".repeat(200), &"b".repeat(10_000), "api", "api").await.unwrap();
    let message = &store.list_messages(app, ana, 10).await.unwrap()[0];
    assert!(message.deliveries.is_empty(), "no devices, no deliveries");

    store.set_user_active(app, ana, false, 5).await.unwrap();
    assert!(matches!(send(&store, app, ana, "T", "B", "api", "api").await, Err(AppError::NotFound(_))));
    assert!(matches!(send(&store, app, 999_999, "T", "B", "api", "api").await, Err(AppError::NotFound(_))));
});

store_test!(the_box_pages_messages_newest_first_with_load_more, |store: Store| async move {
    use app::messages::model::{MAX_MESSAGES_SHOWN, MESSAGES_PAGE};
    use app::messages::service::list;
    let app = new_app(&store, "A").await;
    let (ana, _) = user_with_devices(&store, app, "ana", &[]).await;
    let total = MESSAGES_PAGE + 5;
    for n in 0..total {
        send(&store, app, ana, &format!("m{n}"), "Body", "api", "api").await.unwrap();
    }
    let first = list(&store, app, ana, MESSAGES_PAGE).await.unwrap();
    assert_eq!(first.messages.len() as i64, MESSAGES_PAGE);
    assert!(first.more, "older ones exist");
    assert_eq!(first.messages[0].title, format!("m{}", total - 1), "newest first");
    let all = list(&store, app, ana, MESSAGES_PAGE * 2).await.unwrap();
    assert_eq!(all.messages.len() as i64, total);
    assert!(!all.more);
    assert_eq!(all.messages.last().unwrap().title, "m0");
    // Out-of-range limits are clamped, not refused or unbounded.
    assert_eq!(list(&store, app, ana, 0).await.unwrap().messages.len(), 1);
    assert_eq!(list(&store, app, ana, i64::MAX).await.unwrap().messages.len() as i64, total.min(MAX_MESSAGES_SHOWN));
    let other = new_app(&store, "B").await;
    assert!(matches!(list(&store, other, ana, 10).await, Err(AppError::NotFound(_))));
});

store_test!(a_message_to_a_merged_userid_goes_where_that_userid_points_when_it_is_written, |store: Store| async move {
    use app::messages::service::{send_to, Origin};
    use app::store::Recipient;
    let app = new_app(&store, "A").await;
    let other = new_app(&store, "B").await;
    let (anon, _) = user_with_devices(&store, app, "anon-1", &["phone"]).await;
    let (acct, _) = user_with_devices(&store, app, "acct-1", &[]).await;
    let now = app::time::now_ms();
    let merge = store.merge_users(app, (anon, acct), &[], "admin@example.com", now).await.unwrap();
    let api = Origin { source: "api", sender: "api" };

    let sent = send_to(&store, app, Recipient::UserId("anon-1"), "Hi", "Through the alias", api).await.unwrap();
    assert_eq!((sent.user_id, sent.external_id.as_str()), (acct, "acct-1"), "the kept user has it");
    let written = store.row_counts().await.unwrap();
    for name in ["ghost", "acct-1 "] {
        let refused = send_to(&store, app, Recipient::UserId(name), "Hi", "x", api).await.unwrap_err();
        assert!(matches!(refused, AppError::NotFound(_)), "{name}: {refused:?}");
    }
    let refused = send_to(&store, other, Recipient::UserId("acct-1"), "Hi", "x", api).await.unwrap_err();
    assert!(matches!(refused, AppError::NotFound(_)), "another app's user: {refused:?}");
    assert_eq!(store.row_counts().await.unwrap(), written, "a refusal writes nothing");

    let restored = store.undo_merge(app, merge.id, "admin@example.com", app::time::now_ms()).await.unwrap();
    let listed = |user| store.list_messages(app, user, 10);
    assert_eq!(listed(restored).await.unwrap().iter().map(|m| m.id).collect::<Vec<_>>(), [sent.message_id]);
    assert!(listed(acct).await.unwrap().is_empty(), "the undo handed the message back");
    let after = send_to(&store, app, Recipient::UserId("anon-1"), "Hi", "Named again", api).await.unwrap();
    assert_eq!((after.user_id, after.external_id.as_str()), (restored, "anon-1"), "the restored user");

    store.set_user_active(app, restored, false, app::time::now_ms()).await.unwrap();
    let refused = send_to(&store, app, Recipient::UserId("anon-1"), "Hi", "x", api).await.unwrap_err();
    assert!(matches!(&refused, AppError::NotFound(m) if m.contains("deactivated")), "{refused:?}");
});

store_test!(
    a_write_through_a_merged_userid_that_waits_for_its_undo_goes_to_the_restored_user,
    |store: Store| async move {
        use app::messages::service::{send_to, Origin};
        use app::store::Recipient;
        let app = new_app(&store, "A").await;
        let (anon, _) = user_with_devices(&store, app, "anon-1", &[]).await;
        let (acct, _) = user_with_devices(&store, app, "acct-1", &[]).await;
        let merge = store.merge_users(app, (anon, acct), &[], "admin@example.com", app::time::now_ms()).await.unwrap();

        // The undo holds the kept user (and, on SQLite, the one writer) until
        // it commits; both writes name the merged userID meanwhile.
        let mut undo = store.begin_write().await.unwrap();
        let restored = undo.undo_merge(app, merge.id, "admin@example.com", app::time::now_ms()).await.unwrap();
        let holder = undo.as_holder().await.unwrap();
        let message = tokio::spawn({
            let store = store.clone();
            async move {
                let api = Origin { source: "api", sender: "api" };
                send_to(&store, app, Recipient::UserId("anon-1"), "Hi", "During the undo", api).await
            }
        });
        let upsert = tokio::spawn({
            let store = store.clone();
            async move {
                let input = UserInput { user_name: Some("Renamed"), email: None };
                store.upsert_user(app, &"anon-1".parse().unwrap(), &input, app::time::now_ms()).await
            }
        });
        store.until_blocked_by(holder, 2).await.unwrap();
        assert!(!message.is_finished() && !upsert.is_finished(), "both writes wait for the undo");
        undo.commit().await.unwrap();

        let sent = message.await.unwrap().unwrap();
        assert_eq!(
            (sent.user_id, sent.external_id.as_str()),
            (restored, "anon-1"),
            "the message is the restored user's"
        );
        let upserted = upsert.await.unwrap().unwrap();
        assert_eq!((upserted.id, upserted.user_name.as_deref()), (restored, Some("Renamed")), "so is the new name");
        let kept = store.user_by_id(app, acct).await.unwrap().unwrap();
        assert_eq!(kept.user_name.as_deref(), Some("acct-1"), "the kept user keeps its name");
        assert!(store.list_messages(app, acct, 10).await.unwrap().is_empty(), "and gets no message");
    }
);
