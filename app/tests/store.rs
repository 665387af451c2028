//! Store tests: each runs on SQLite and on PostgreSQL (`store_test!`).

use app::model::devices::DeviceAttributes;
use app::store::{DeviceInput, EventInput, LocationInput, Store, StoreError, UserInput};
use app::store_test;
use app::test_fixtures::new_app;

fn user<'a>(name: &'a str, email: Option<&'a str>) -> UserInput<'a> {
    UserInput { user_name: Some(name), email }
}

fn event(client_id: Option<&str>, user: Option<&str>, device: Option<&str>, at: i64) -> EventInput {
    EventInput {
        client_id: client_id.map(|id| id.parse().unwrap()),
        event_type: "custom.test".into(),
        user_external_id: user.map(|id| id.parse().unwrap()),
        device_external_id: device.map(|id| id.parse().unwrap()),
        session_id: None,
        occurred_at: at,
        data: Some("{\"a\":1}".into()),
    }
}

store_test!(apps_are_unique_by_name_and_found_by_key_hash, |store: Store| async move {
    let id = new_app(&store, "Shop").await;
    let err = store.create_app("shop", "other-hash", 2).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.app_by_key_hash("hash-Shop").await.unwrap().unwrap().id, id);
    assert!(store.app_by_key_hash("nope").await.unwrap().is_none());
    store.set_app_key_hash(id, "rotated").await.unwrap();
    assert!(store.app_by_key_hash("hash-Shop").await.unwrap().is_none());
    assert_eq!(store.app_by_name("SHOP").await.unwrap().unwrap().id, id);
});

store_test!(upsert_user_keeps_absent_fields_and_reactivates, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let created =
        store.upsert_user(app, &"u1".parse().unwrap(), &user("Ana", Some("ana@example.com")), 10).await.unwrap();
    assert_eq!(created.created_at, 10);
    assert!(store.set_user_active(app, created.id, false, 11).await.unwrap());
    let updated = store
        .upsert_user(app, &"u1".parse().unwrap(), &UserInput { user_name: Some("Ana Silva"), email: None }, 20)
        .await
        .unwrap();
    assert_eq!(updated.id, created.id);
    assert_eq!(updated.user_name.as_deref(), Some("Ana Silva"));
    assert_eq!(updated.email.as_deref(), Some("ana@example.com"), "absent email is kept");
    assert!(updated.active, "registering again reactivates");
    assert_eq!(updated.created_at, 10, "created time is kept");
});

store_test!(users_are_scoped_by_app, |store: Store| async move {
    let (a, b) = (new_app(&store, "A").await, new_app(&store, "B").await);
    store.upsert_user(a, &"same-id".parse().unwrap(), &user("In A", None), 1).await.unwrap();
    store.upsert_user(b, &"same-id".parse().unwrap(), &user("In B", None), 1).await.unwrap();
    let in_a = store.user_by_external_id(a, "same-id").await.unwrap().unwrap();
    let in_b = store.user_by_external_id(b, "same-id").await.unwrap().unwrap();
    assert_ne!(in_a.id, in_b.id);
    assert_eq!(in_b.user_name.as_deref(), Some("In B"));
    assert_eq!(store.count_active_users(a).await.unwrap(), 1);
});

store_test!(devices_link_to_users_and_keep_last_location, |store: Store| async move {
    let app = new_app(&store, "A").await;
    store.upsert_user(app, &"u1".parse().unwrap(), &user("Ana", None), 1).await.unwrap();
    let mut input = DeviceInput {
        user_external_id: Some("nobody".parse().unwrap()),
        attributes: DeviceAttributes { platform: "iOS".into(), ..Default::default() },
        ..Default::default()
    };
    let err = store.upsert_device(app, &"d1".parse().unwrap(), &input, 2).await.unwrap_err();
    assert!(matches!(err, StoreError::UnknownReference { ref field, .. } if field == "userID"), "{err:?}");
    assert_eq!(store.device_id_by_external_id(app, "d1").await.unwrap(), None, "nothing half-written");

    input.user_external_id = Some("u1".parse().unwrap());
    let device = store.upsert_device(app, &"d1".parse().unwrap(), &input, 3).await.unwrap();
    let again = store
        .upsert_device(
            app,
            &"d1".parse().unwrap(),
            &DeviceInput {
                attributes: DeviceAttributes { platform: "Android".into(), ..Default::default() },
                ..Default::default()
            },
            4,
        )
        .await
        .unwrap();
    assert_eq!(device, again);

    let at = |t, lat| LocationInput { latitude: lat, longitude: 1.0, accuracy: None, recorded_at: t };
    assert_eq!(store.last_location(app, device).await.unwrap(), None, "no fix yet");
    store.add_locations(app, device, &[at(10, 1.0), at(30, 3.0), at(20, 2.0)]).await.unwrap();
    assert_eq!(store.count_locations(device).await.unwrap(), 3);
    assert_eq!(
        store.last_location(app, device).await.unwrap(),
        Some((3.0, 1.0, None, 30)),
        "the newest fix, not the last sent"
    );
    // An older fix arriving late joins the trail but does not move the device back.
    store.add_locations(app, device, &[at(25, 2.5)]).await.unwrap();
    assert_eq!(store.count_locations(device).await.unwrap(), 4);
    assert_eq!(store.last_location(app, device).await.unwrap(), Some((3.0, 1.0, None, 30)));
    store.add_locations(app, device, &[at(40, 4.0)]).await.unwrap();
    assert_eq!(store.last_location(app, device).await.unwrap(), Some((4.0, 1.0, None, 40)));
});

store_test!(events_are_idempotent_and_all_or_nothing, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let other = new_app(&store, "B").await;
    store.upsert_user(app, &"u1".parse().unwrap(), &user("Ana", None), 1).await.unwrap();
    let device = DeviceInput {
        user_external_id: Some("u1".parse().unwrap()),
        attributes: DeviceAttributes { platform: "Web".into(), ..Default::default() },
        ..Default::default()
    };
    store.upsert_device(app, &"d1".parse().unwrap(), &device, 1).await.unwrap();

    let batch = [
        event(Some("e1"), Some("u1"), None, 100),
        event(Some("e2"), None, Some("d1"), 60_200),
        event(Some("e1"), Some("u1"), None, 100), // repeats e1 within the batch
        event(None, None, None, 300),
    ];
    let outcome = store.insert_events(app, &batch, 1_000).await.unwrap();
    assert_eq!((outcome.accepted, outcome.duplicates), (3, 1));
    let again = store.insert_events(app, &batch[..2], 1_000).await.unwrap();
    assert_eq!((again.accepted, again.duplicates), (0, 2));
    // The same client id in another app is a different event.
    let elsewhere = store.insert_events(other, &[event(Some("e1"), None, None, 5)], 1_000).await.unwrap();
    assert_eq!(elsewhere.accepted, 1);

    let seen = store.user_by_external_id(app, "u1").await.unwrap().unwrap();
    assert_eq!(seen.last_seen_at, Some(60_000), "the device's event counts for its user (to the minute)");

    let bad = [event(Some("e9"), Some("u1"), None, 400), event(None, Some("ghost"), None, 400)];
    let err = store.insert_events(app, &bad, 1_000).await.unwrap_err();
    assert!(matches!(err, StoreError::UnknownReference { ref field, .. } if field == "[1].userID"), "{err:?}");
    assert_eq!(store.count_events(app).await.unwrap(), 3, "rejected batch wrote nothing");
});

store_test!(concurrent_event_batches_keep_their_own_answers, multi_thread, |store: Store| async move {
    let app = new_app(&store, "Busy").await;
    store.upsert_user(app, &"u1".parse().unwrap(), &user("Ana", None), 1).await.unwrap();
    // Hold the writer so that every batch below is waiting when it frees
    // (on SQLite; on PostgreSQL they queue behind the first group): they are
    // then written together (`event_groups.rs`).
    let held = store.begin_write().await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..12i64 {
        let store = store.clone();
        tasks.spawn(async move {
            let mut batch: Vec<EventInput> =
                (0..50).map(|n| event(Some(&format!("b{k}-{n}")), Some("u1"), None, k * 60_000 + n)).collect();
            // Ten ids every batch repeats: stored once, by whichever batch is first.
            batch.extend((0..10).map(|n| event(Some(&format!("shared-{n}")), Some("u1"), None, 10)));
            if k == 5 {
                batch.push(event(Some("b5-ghost"), Some("ghost"), None, 99 * 60_000));
            }
            (k, store.insert_events(app, &batch, 50_000).await)
        });
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    drop(held);
    let (mut accepted, mut duplicates) = (0, 0);
    while let Some(joined) = tasks.join_next().await {
        let (k, outcome) = joined.unwrap();
        if k == 5 {
            let err = outcome.unwrap_err();
            assert!(matches!(err, StoreError::UnknownReference { ref field, .. } if field == "[60].userID"), "{err:?}");
            continue;
        }
        let outcome = outcome.unwrap();
        accepted += outcome.accepted;
        duplicates += outcome.duplicates;
    }
    assert_eq!((accepted, duplicates), (11 * 50 + 10, 11 * 10 - 10));
    assert_eq!(store.count_events(app).await.unwrap(), 11 * 50 + 10, "the rejected batch wrote nothing");
    let seen = store.user_by_external_id(app, "u1").await.unwrap().unwrap();
    assert_eq!(seen.last_seen_at, Some(11 * 60_000), "the newest accepted event's minute, not the rejected one's");
    let (groups, batches) = store.event_groups_committed();
    assert_eq!(batches, 12, "every batch went through a group");
    assert!(groups < batches, "the waiting batches shared a transaction: {groups} groups");
});

store_test!(last_seen_moves_forward_by_the_minute, |store: Store| async move {
    let app = new_app(&store, "Clock").await;
    store.upsert_user(app, &"u1".parse().unwrap(), &user("Ana", None), 1).await.unwrap();
    let device = DeviceInput {
        user_external_id: Some("u1".parse().unwrap()),
        attributes: DeviceAttributes { platform: "Web".into(), ..Default::default() },
        ..Default::default()
    };
    store.upsert_device(app, &"d1".parse().unwrap(), &device, 1).await.unwrap();
    let times = |store: Store| async move {
        let user = store.user_by_external_id(app, "u1").await.unwrap().unwrap();
        let devices = store.devices_of_user(app, user.id).await.unwrap();
        (user.last_seen_at, devices[0].last_active_at)
    };
    let mut n = 0;
    let mut send = |at: i64| {
        n += 1;
        let batch = [event(Some(&format!("e{n}")), Some("u1"), Some("d1"), at)];
        let store = store.clone();
        async move { store.insert_events(app, &batch, 10_000_000).await.unwrap() }
    };
    send(61_500).await;
    assert_eq!(times(store.clone()).await, (Some(60_000), 60_000), "the minute of the event");
    send(119_999).await;
    assert_eq!(times(store.clone()).await, (Some(60_000), 60_000), "a later event in the same minute writes nothing");
    send(120_001).await;
    assert_eq!(times(store.clone()).await, (Some(120_000), 120_000), "the next minute moves it");
    send(30_000).await;
    assert_eq!(times(store.clone()).await, (Some(120_000), 120_000), "an older event never moves it back");
});

/// A SQLite database made by a version whose events still had foreign keys
/// upgrades by opening it: the migrations rebuild the table without them,
/// keep every event, and never give out an id used before.
#[tokio::test]
async fn sqlite_events_lose_their_foreign_keys_by_migration() {
    use sqlx::{Connection, Row, SqliteConnection};

    let dir = std::env::temp_dir().join(format!("audience_upgrade_{}", std::process::id()));
    let old_migrations = dir.join("migrations");
    std::fs::create_dir_all(&old_migrations).unwrap();
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for entry in std::fs::read_dir(&all).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.as_str() < "0021" {
            std::fs::copy(&path, old_migrations.join(name)).unwrap();
        }
    }
    let file = dir.join("old.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let mut old = SqliteConnection::connect(&url).await.unwrap();
    sqlx::migrate::Migrator::new(old_migrations.as_path()).await.unwrap().run(&mut old).await.unwrap();
    async fn keys(conn: &mut SqliteConnection) -> sqlx::Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM pragma_foreign_key_list('events')").fetch_one(conn).await
    }
    assert_eq!(keys(&mut old).await.unwrap(), 3, "the old schema has the three keys");
    sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut old).await.unwrap();
    for id in 1..=3 {
        sqlx::query(
            "INSERT INTO events (id, app_id, client_id, event_type, user_id, occurred_at, received_at)
             VALUES ($1, 7, $2, 'custom.old', 9, $1, $1)",
        )
        .bind(id)
        .bind(format!("c{id}"))
        .execute(&mut old)
        .await
        .unwrap();
    }
    sqlx::query("DELETE FROM events WHERE id = 3").execute(&mut old).await.unwrap();
    old.close().await.unwrap();

    let store = Store::connect(&url).await.expect("the new version opens the old database");
    store.close().await;
    let mut conn = SqliteConnection::connect(&url).await.unwrap();
    assert_eq!(keys(&mut conn).await.unwrap(), 0, "no foreign keys left on events");
    let rows = sqlx::query("SELECT id, client_id FROM events ORDER BY id").fetch_all(&mut conn).await.unwrap();
    let kept: Vec<(i64, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(kept, [(1, "c1".to_string()), (2, "c2".to_string())]);
    let indexes: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(indexes, 4, "the events' four indexes are rebuilt");
    sqlx::query("INSERT INTO events (app_id, event_type, occurred_at, received_at) VALUES (7, 'custom.new', 4, 4)")
        .execute(&mut conn)
        .await
        .unwrap();
    let newest: i64 = sqlx::query_scalar("SELECT MAX(id) FROM events").fetch_one(&mut conn).await.unwrap();
    assert_eq!(newest, 4, "id 3 was given out before the upgrade and is not given out again");
    conn.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
