//! The devices feature's reads, on SQLite and on PostgreSQL: a user's
//! devices, a device's trail and events, what the live channel announces,
//! and that deactivated users' and other apps' devices stay invisible.

use app::devices::model::Fix;
use app::devices::service::device_detail;
use app::error::AppError;
use app::ids::LocationStatus;
use app::model::devices::DeviceAttributes;
use app::store::{DeviceInput, EventInput, LocationInput, Store};
use app::store_test;
use app::test_fixtures::{new_app, new_user};

async fn new_device(store: &Store, app: i64, user: &str, id: &str, status: LocationStatus, active_at: i64) -> i64 {
    let input = DeviceInput {
        user_external_id: Some(user.parse().unwrap()),
        location_status: Some(status),
        attributes: DeviceAttributes {
            platform: "iOS".into(),
            device_string: Some(format!("Phone {id}")),
            os_version: Some("17.2".into()),
            allowed_ui: Some(true),
            bluetooth_enabled: Some(false),
            ..Default::default()
        },
    };
    store.upsert_device(app, &id.parse().unwrap(), &input, active_at).await.unwrap()
}

fn at(t: i64, lat: f64) -> LocationInput {
    LocationInput { latitude: lat, longitude: 4.9, accuracy: Some(t as f64), recorded_at: t }
}

store_test!(a_users_devices_newest_first_with_their_last_fix, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let ana = new_user(&store, app, "ana").await;
    new_user(&store, app, "bob").await;
    let old = new_device(&store, app, "ana", "d-old", LocationStatus::Always, 10).await;
    let new = new_device(&store, app, "ana", "d-new", LocationStatus::None, 30).await;
    new_device(&store, app, "bob", "d-bob", LocationStatus::Use, 20).await;
    store.add_locations(app, old, &[at(5, 52.0), at(7, 52.2)]).await.unwrap();

    let devices = store.devices_of_user(app, ana).await.unwrap();
    assert_eq!(devices.iter().map(|d| d.id).collect::<Vec<_>>(), [new, old], "most recently active first");
    let located = &devices[1];
    assert_eq!(located.external_id, "d-old");
    assert_eq!(located.location_status, LocationStatus::Always);
    assert_eq!(located.attributes.os_version.as_deref(), Some("17.2"));
    assert_eq!(located.attributes.bluetooth_enabled, Some(false));
    assert_eq!(located.last_fix, Some(Fix { latitude: 52.2, longitude: 4.9, accuracy: Some(7.0), at: 7 }));
    assert_eq!(devices[0].last_fix, None);
    assert_eq!(devices.iter().filter(|d| d.map_fix().is_some()).count(), 1);

    // Another app sees none of them, even by the user's id.
    let other = new_app(&store, "B").await;
    assert!(store.devices_of_user(other, ana).await.unwrap().is_empty());
    assert!(store.device_with_user(other, old).await.unwrap().is_none());

    // A deactivated user's devices appear nowhere.
    store.set_user_active(app, ana, false, 40).await.unwrap();
    assert!(store.devices_of_user(app, ana).await.unwrap().is_empty());
    assert!(store.device_with_user(app, old).await.unwrap().is_none());
    assert!(store.device_moved(old).await.unwrap().is_none());
    store.set_user_active(app, ana, true, 50).await.unwrap();
    assert_eq!(store.devices_of_user(app, ana).await.unwrap().len(), 2);
});

store_test!(the_trail_runs_oldest_to_newest_and_moves_are_announced_once, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let ana = new_user(&store, app, "ana").await;
    let device = new_device(&store, app, "ana", "d1", LocationStatus::Use, 10).await;
    assert!(store.trail(app, device, 10).await.unwrap().0.is_empty());
    assert!(store.device_moved(device).await.unwrap().is_none(), "no fix, nothing to announce");

    assert!(store.add_locations(app, device, &[at(30, 3.0), at(10, 1.0), at(20, 2.0)]).await.unwrap());
    let (trail, truncated) = store.trail(app, device, 10).await.unwrap();
    assert_eq!(trail.iter().map(|f| f.at).collect::<Vec<_>>(), [10, 20, 30]);
    assert!(!truncated);
    let (newest_two, truncated) = store.trail(app, device, 2).await.unwrap();
    assert_eq!(newest_two.iter().map(|f| f.at).collect::<Vec<_>>(), [20, 30], "the newest, still oldest first");
    assert!(truncated);

    let moved = store.device_moved(device).await.unwrap().expect("a fix");
    assert_eq!((moved.app_id, moved.user_id, moved.device_id), (app, ana, device));
    assert_eq!(moved.fix.at, 30);
    assert_eq!(moved.fix.latitude, 3.0);

    // A late, older point joins the trail but does not move the device.
    assert!(!store.add_locations(app, device, &[at(25, 2.5)]).await.unwrap());
    assert_eq!(store.device_moved(device).await.unwrap().unwrap().fix.at, 30);
    assert!(store.add_locations(app, device, &[at(40, 4.0)]).await.unwrap());
    assert_eq!(store.device_moved(device).await.unwrap().unwrap().fix.at, 40);
    assert_eq!(store.trail(app, device, 10).await.unwrap().0.len(), 5);
});

store_test!(the_device_page_has_its_own_events_and_refuses_others, |store: Store| async move {
    let app = new_app(&store, "A").await;
    new_user(&store, app, "ana").await;
    let phone = new_device(&store, app, "ana", "phone", LocationStatus::Always, 10).await;
    new_device(&store, app, "ana", "tablet", LocationStatus::Always, 10).await;
    let event = |id: &str, device: &str, t: i64| EventInput {
        client_id: Some(id.parse().unwrap()),
        event_type: "custom.tap".into(),
        user_external_id: Some("ana".parse().unwrap()),
        device_external_id: Some(device.parse().unwrap()),
        session_id: None,
        occurred_at: t,
        data: None,
    };
    let events = [event("e1", "phone", 100), event("e2", "tablet", 200), event("e3", "phone", 300)];
    store.insert_events(app, &events, 400).await.unwrap();
    store.add_locations(app, phone, &[at(1, 1.0), at(2, 2.0)]).await.unwrap();

    let detail = device_detail(&store, app, phone).await.unwrap();
    assert_eq!(detail.device.external_id, "phone");
    assert_eq!(detail.user.external_id, "ana");
    assert_eq!(
        detail.events.iter().map(|e| e.occurred_at).collect::<Vec<_>>(),
        [300, 100],
        "newest first, this device's only"
    );
    assert_eq!(detail.trail.len(), 2);

    let other = new_app(&store, "B").await;
    let refused = device_detail(&store, other, phone).await.unwrap_err();
    assert!(matches!(refused, AppError::NotFound(_)), "{refused:?}");
    assert_eq!(refused.status_code(), 404);
    assert!(matches!(device_detail(&store, app, 999_999).await, Err(AppError::NotFound(_))));
});
