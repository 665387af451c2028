//! The profile's Options (Export, Deactivate / Reactivate, Delete) and the
//! Access log, on SQLite and PostgreSQL. After Delete, every table of the schema (read from the
//! database, so a table added later is covered) is checked for rows that
//! still point at the user or its devices.

use app::auth::session::SessionAdmin;
use app::error::AppError;
use app::ids::LocationStatus;
use app::messages::service::send;
use app::model::devices::DeviceAttributes;
use app::model::Role;
use app::profile::access_log::service::{access_log, record_view};
use app::profile::access_log::{EXPORTED, VIEWED};
use app::profile::export::{start_export, write_export, ExportFormat};
use app::profile::lifecycle::{delete, set_active, DELETED};
use app::profile::service::generate_push_mail;
use app::segments::service::{add_as, create_as};
use app::store::{DeviceInput, EventInput, LocationInput, NewAudit, Store, UserInput};
use app::store_test;
use app::test_fixtures::{admin, new_app};
use app::users::model::{UserFilter, UserSort};
use app::users::service::users_page;

/// A user with everything a user can have: two located devices with trails,
/// events (one from a device only), a message with deliveries, a segment,
/// a Push Mail address and audit entries. Returns (user id, device ids).
async fn full_user(store: &Store, app: i64, id: &str) -> (i64, Vec<i64>) {
    let input = UserInput { user_name: Some(id), email: Some("someone@example.com") };
    let user = store.upsert_user(app, &id.parse().unwrap(), &input, 1).await.unwrap().id;
    let mut devices = Vec::new();
    for n in 0..2 {
        let input = DeviceInput {
            user_external_id: Some(id.parse().unwrap()),
            location_status: Some(LocationStatus::Always),
            attributes: DeviceAttributes { platform: "iOS".into(), ..Default::default() },
        };
        let device = store.upsert_device(app, &format!("{id}-d{n}").parse().unwrap(), &input, 10).await.unwrap();
        let fixes: Vec<_> = (0..3)
            .map(|t| LocationInput { latitude: 52.0 + t as f64, longitude: 4.9, accuracy: None, recorded_at: 20 + t })
            .collect();
        store.add_locations(app, device, &fixes).await.unwrap();
        devices.push(device);
    }
    let event = |n: i64, user: bool| EventInput {
        client_id: Some(format!("{id}-e{n}").parse().unwrap()),
        event_type: "open".into(),
        user_external_id: user.then(|| id.parse().unwrap()),
        device_external_id: Some(format!("{id}-d0").parse().unwrap()),
        session_id: None,
        occurred_at: 100 + n,
        data: Some(r#"{"screen":"home"}"#.into()),
    };
    store.insert_events(app, &[event(1, true), event(2, true), event(3, false)], 200).await.unwrap();
    send(store, app, user, "Hello", "Body", "dashboard", "admin@example.com").await.unwrap();
    let (segment, _) = create_as(store, app, &format!("seg-{id}"), "admin@example.com").await.unwrap();
    add_as(store, app, user, &[segment.id], "admin@example.com").await.unwrap();
    generate_push_mail(store, app, user, "mail.example.com", &admin()).await.unwrap();
    app::properties::service::set(store, app, user, "plan", "string", "free", &admin()).await.unwrap();
    app::properties::service::set(store, app, user, "plan", "string", "pro", &admin()).await.unwrap();
    app::notes::service::add(store, app, user, "Prefers email.", &admin()).await.unwrap();
    record_view(store, app, user, &admin()).await.unwrap();
    (user, devices)
}

store_test!(delete_leaves_no_row_pointing_at_the_user_or_its_devices, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let (ana, devices) = full_user(&store, app, "ana").await;
    let (bob, bob_devices) = full_user(&store, app, "bob").await;
    assert_eq!(store.device_ids_of_user(ana).await.unwrap(), devices);

    // The check sees what is there (so that an empty answer means something).
    let before = store.rows_referencing(ana, &devices).await.unwrap();
    let tables: Vec<&str> = before.iter().map(|l| l.table.as_str()).collect();
    for table in [
        "users",
        "user_properties",
        "property_changes",
        "notes",
        "devices",
        "locations",
        "events",
        "messages",
        "message_deliveries",
        "segment_members",
        "user_search",
        "audit",
    ] {
        assert!(tables.contains(&table), "{table} holds rows of the user before: {before:?}");
    }

    // The wrong confirmation deletes nothing.
    let wrong = delete(&store, app, ana, "an", &admin()).await;
    assert!(matches!(wrong, Err(AppError::Invalid { .. })), "{wrong:?}");
    assert_eq!(store.rows_referencing(ana, &devices).await.unwrap(), before);
    // Another app cannot delete it.
    let other = new_app(&store, "B").await;
    assert!(matches!(delete(&store, other, ana, "ana", &admin()).await, Err(AppError::NotFound(_))));

    let (external_id, erased) = delete(&store, app, ana, " ana ", &admin()).await.unwrap();
    assert_eq!(external_id, "ana");
    assert_eq!((erased.devices, erased.locations, erased.events, erased.messages), (2, 6, 3, 1));
    let left = store.rows_referencing(ana, &devices).await.unwrap();
    assert!(left.is_empty(), "rows left after delete: {left:?}");
    assert!(store.user_by_id(app, ana).await.unwrap().is_none(), "the old URL answers 404");

    // One audit entry remains, without the user or personal data.
    let audit = store.recent_audit(1).await.unwrap();
    assert_eq!(audit[0].action, DELETED);
    assert_eq!(audit[0].user_id, None);
    assert!(!audit[0].detail.contains("ana") && !audit[0].detail.contains("someone@"), "{:?}", audit[0].detail);
    assert_eq!(audit[0].detail, "2 devices, 6 locations, 3 events, 1 messages");

    // Bob is untouched.
    let bob_rows = store.rows_referencing(bob, &bob_devices).await.unwrap();
    assert_eq!(bob_rows.len(), before.len(), "bob keeps every kind of row: {bob_rows:?}");
    // Deleting again: not found.
    assert!(matches!(delete(&store, app, ana, "ana", &admin()).await, Err(AppError::NotFound(_))));
});

store_test!(a_user_whose_id_has_spaces_at_its_ends_can_be_deleted, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let spaced = "  spaced id ";
    let input = UserInput { user_name: Some("Spaced"), email: None };
    let user = store.upsert_user(app, &spaced.parse().unwrap(), &input, 1).await.unwrap().id;
    let wrong = delete(&store, app, user, "spaced", &admin()).await;
    assert!(matches!(wrong, Err(AppError::Invalid { .. })), "{wrong:?}");
    // What the form sends: the userID as typed, trimmed.
    let (external_id, _) = delete(&store, app, user, "spaced id", &admin()).await.unwrap();
    assert_eq!(external_id, spaced);
    assert!(store.user_by_id(app, user).await.unwrap().is_none());
});

store_test!(the_orphan_check_reads_every_table_of_the_schema, |store: Store| async move {
    let columns = store.reference_columns().await.unwrap();
    let named: Vec<String> = columns.iter().map(|c| format!("{}.{}", c.table, c.column)).collect();
    for expected in
        ["users.id", "devices.id", "devices.user_id", "events.device_id", "audit.user_id", "locations.device_id"]
    {
        assert!(named.contains(&expected.to_string()), "{expected} missing from {named:?}");
    }
    assert!(!named.iter().any(|n| n.starts_with("_sqlx")), "{named:?}");
});

/// The users list with `search`, the deactivated included or not.
async fn listed(store: &Store, app: i64, search: &str, segment: Option<&str>, include: bool) -> Vec<i64> {
    let filter = UserFilter {
        search: search.into(),
        sort: UserSort::Name,
        include_deactivated: include,
        segment: segment.map(Into::into),
        ..Default::default()
    };
    users_page(store, app, &filter, None, 50).await.unwrap().users.iter().map(|u| u.id).collect()
}

store_test!(deactivate_hides_everywhere_and_reactivate_restores, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let (ana, devices) = full_user(&store, app, "ana").await;
    let (bob, _) = full_user(&store, app, "bob").await;
    let visible = |list: &[i64]| list.contains(&ana);
    assert!(visible(&listed(&store, app, "", None, false).await));
    assert!(visible(&listed(&store, app, "ana", None, false).await));
    assert!(visible(&listed(&store, app, "", Some("seg-ana"), false).await));
    assert_eq!(store.devices_of_user(app, ana).await.unwrap().len(), 2);

    set_active(&store, app, ana, false, &admin()).await.unwrap();
    assert!(!visible(&listed(&store, app, "", None, false).await), "users list");
    assert!(!visible(&listed(&store, app, "ana", None, false).await), "search");
    assert!(!visible(&listed(&store, app, "", Some("seg-ana"), false).await), "segment filter");
    assert!(store.devices_of_user(app, ana).await.unwrap().is_empty(), "map");
    assert!(store.device_moved(devices[0]).await.unwrap().is_none(), "live map");
    assert!(visible(&listed(&store, app, "", None, true).await), "shown with Show deactivated");
    assert!(listed(&store, app, "", None, false).await.contains(&bob));
    assert!(!store.user_by_id(app, ana).await.unwrap().unwrap().active, "the profile says so");
    assert_eq!(store.recent_audit(1).await.unwrap()[0].action, "deactivated user");

    set_active(&store, app, ana, true, &admin()).await.unwrap();
    assert!(visible(&listed(&store, app, "ana", None, false).await));
    assert!(visible(&listed(&store, app, "", Some("seg-ana"), false).await));
    assert_eq!(store.devices_of_user(app, ana).await.unwrap().len(), 2);

    // Re-registration through the API reactivates too.
    set_active(&store, app, ana, false, &admin()).await.unwrap();
    store.upsert_user(app, &"ana".parse().unwrap(), &UserInput::default(), 500).await.unwrap();
    assert!(visible(&listed(&store, app, "", None, false).await));

    let other = new_app(&store, "B").await;
    assert!(matches!(set_active(&store, other, ana, false, &admin()).await, Err(AppError::NotFound(_))));
});

store_test!(the_access_log_lists_views_and_exports_newest_first, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let (ana, _) = full_user(&store, app, "ana").await; // one view by admin@
                                                        // A second view within the coalescing window is not a new entry.
    record_view(&store, app, ana, &admin()).await.unwrap();
    let viewer = SessionAdmin { id: 2, email: "viewer@example.com".into(), role: Role::Viewer };
    record_view(&store, app, ana, &viewer).await.unwrap();
    let export = NewAudit::on_user(app, ana, "admin@example.com", EXPORTED).with_detail("JSON");
    store.record_audit(&export, i64::MAX / 2).await.unwrap();

    let log = access_log(&store, app, ana, &admin()).await.unwrap();
    let seen: Vec<(&str, &str)> = log.iter().map(|e| (e.actor.as_str(), e.action.as_str())).collect();
    assert_eq!(
        seen,
        [("admin@example.com", EXPORTED), ("viewer@example.com", VIEWED), ("admin@example.com", VIEWED)],
        "newest first, changes (push mail, segments) left out"
    );
    let other = new_app(&store, "B").await;
    let before = store.row_counts().await.unwrap();
    let refused = access_log(&store, other, ana, &admin()).await;
    assert!(matches!(refused, Err(AppError::NotFound(_))), "another app's user is a 404: {refused:?}");
    let unknown = access_log(&store, app, i64::MAX, &admin()).await;
    assert!(matches!(unknown, Err(AppError::NotFound(_))), "an unknown user is a 404: {unknown:?}");
    assert_eq!(store.row_counts().await.unwrap(), before, "nothing written for either");
    // The box asked before (or with) the profile shows this view, written once.
    let (bob, _) = full_user(&store, app, "bob").await;
    let auditor = SessionAdmin { id: 3, email: "auditor@example.com".into(), role: Role::Viewer };
    let (viewed, log) = tokio::join!(record_view(&store, app, bob, &auditor), access_log(&store, app, bob, &auditor));
    viewed.unwrap();
    let by_auditor = log.unwrap().iter().filter(|e| e.actor == auditor.email).count();
    assert_eq!(by_auditor, 1, "the view is in the log the box got");
    let again = access_log(&store, app, bob, &auditor).await.unwrap();
    assert_eq!(again.iter().filter(|e| e.actor == auditor.email).count(), 1, "one entry for both requests");
    // The unified timeline keeps to changes: no views, no exports.
    let timeline = store.user_timeline(app, ana, None, 100).await.unwrap();
    let titles: Vec<&str> = timeline.iter().map(|e| e.title.as_str()).collect();
    assert!(titles.contains(&"generated push mail"), "{titles:?}");
    assert!(!titles.contains(&VIEWED) && !titles.contains(&EXPORTED), "{titles:?}");
});

/// Runs an export to the end and returns its bytes.
async fn exported(store: &Store, app: i64, user: i64, format: ExportFormat) -> Vec<u8> {
    let summary = start_export(store, app, user, format, &admin()).await.unwrap();
    let (out, mut chunks) = tokio::sync::mpsc::channel(4);
    let writer = tokio::spawn(write_export(store.clone(), summary, Some("t@mail.example.com".into()), format, out));
    let mut bytes = Vec::new();
    while let Some(chunk) = chunks.recv().await {
        bytes.extend(chunk.expect("no error chunk"));
    }
    writer.await.unwrap();
    bytes
}

store_test!(the_export_holds_every_section, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let (ana, devices) = full_user(&store, app, "ana").await;
    full_user(&store, app, "bob").await;
    let json: serde_json::Value = serde_json::from_slice(&exported(&store, app, ana, ExportFormat::Json).await)
        .expect("the export is one JSON document");
    assert_eq!(json["format"], "audience-user-export/1");
    assert_eq!(json["profile"]["external_id"], "ana");
    assert_eq!(json["profile"]["email"], "someone@example.com");
    assert_eq!(json["push_mail"], "t@mail.example.com");
    assert_eq!(json["segments"][0]["segment"], "seg-ana");
    let ids: Vec<i64> = json["devices"].as_array().unwrap().iter().map(|d| d["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, devices);
    assert_eq!(json["locations"].as_array().unwrap().len(), 6, "the trails of both devices");
    let events = json["events"].as_array().unwrap();
    assert_eq!(events.len(), 3, "the user's and its device's events, not bob's");
    assert_eq!(events[0]["data"]["screen"], "home", "data as JSON, not a string");
    let messages = json["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["title"], "Hello");
    assert_eq!(messages[0]["deliveries"].as_array().unwrap().len(), 2, "one per device");
    let actions: Vec<&str> = json["audit"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    for action in ["generated push mail", "sent private message", "set property", VIEWED, EXPORTED] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    assert_eq!(
        json["properties"],
        serde_json::json!([{"name": "plan", "value": {"kind": "string", "value": "pro"},
        "updated_at": json["properties"][0]["updated_at"]}])
    );
    let history = json["property_history"].as_array().unwrap();
    let values: Vec<(&serde_json::Value, &serde_json::Value)> =
        history.iter().map(|c| (&c["old"]["value"], &c["new"]["value"])).collect();
    assert_eq!(values, [(&"free".into(), &"pro".into()), (&serde_json::Value::Null, &"free".into())], "newest first");
    let notes = json["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!((&notes[0]["body"], &notes[0]["author"]), (&"Prefers email.".into(), &"admin@example.com".into()));

    let csv = String::from_utf8(exported(&store, app, ana, ExportFormat::EventsCsv).await).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(reader.headers().unwrap().get(2), Some("event_type"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[0][6], r#"{"screen":"home"}"#);

    let unknown = start_export(&store, app, 999_999, ExportFormat::Json, &admin()).await;
    assert!(matches!(unknown, Err(AppError::NotFound(_))));
});

store_test!(a_delete_racing_the_ingest_leaves_no_event_behind, multi_thread, |store: Store| async move {
    // PostgreSQL's events have no foreign keys (migration 0019): what keeps
    // a batch from landing after the erasure deleted the user's events is
    // the locking of the look-up and of the delete. Batches naming the user
    // or its device race its deletion; after both, none of its rows remain.
    let app = new_app(&store, "Race").await;
    for round in 0..8 {
        let id = format!("racer{round}");
        let (user, devices) = full_user(&store, app, &id).await;
        let mut writers = tokio::task::JoinSet::new();
        for w in 0..4 {
            let (store, id) = (store.clone(), id.clone());
            writers.spawn(async move {
                for b in 0..20 {
                    let batch: Vec<EventInput> = (0..20)
                        .map(|n| EventInput {
                            client_id: Some(format!("{id}-w{w}-{b}-{n}").parse().unwrap()),
                            event_type: "tap".into(),
                            user_external_id: (n % 2 == 0).then(|| id.parse().unwrap()),
                            device_external_id: Some(format!("{id}-d0").parse().unwrap()),
                            session_id: None,
                            occurred_at: 1_000 + n,
                            data: None,
                        })
                        .collect();
                    // After the delete, the batch names an unknown user or
                    // device and is refused whole.
                    if store.insert_events(app, &batch, 2_000).await.is_err() {
                        break;
                    }
                }
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(5 * round)).await;
        delete(&store, app, user, &id, &admin()).await.unwrap();
        while writers.join_next().await.is_some() {}
        let left = store.rows_referencing(user, &devices).await.unwrap();
        assert!(left.is_empty(), "round {round}: rows left after a delete racing the ingest: {left:?}");
    }
});
