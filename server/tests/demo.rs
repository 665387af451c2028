//! The demo seeder fills an app with everything the console shows.

use app::store::Store;
use app::store_test;

store_test!(seeds_users_devices_and_a_week_of_events, |store: Store| async move {
    let now = app::time::now_ms();
    let app = store.create_app("Demo", "hash", now).await.unwrap();
    server::demo::seed::seed(&store, app.id, 12, now).await.expect("seed");
    assert_eq!(store.count_active_users(app.id).await.unwrap(), 12);
    assert!(store.count_events(app.id).await.unwrap() >= 12 * 2, "every user has at least one session");
    let user = store.user_by_external_id(app.id, &server::demo::user_external_id(0)).await.unwrap().unwrap();
    assert!(user.last_seen_at.is_some_and(|t| t > now - 8 * 24 * 3600 * 1000 && t <= now));
    assert!(store.device_id_by_external_id(app.id, &server::demo::device_external_id(0, 0)).await.unwrap().is_some());
});

store_test!(seeds_a_few_dozen_segments_with_members, |store: Store| async move {
    let now = app::time::now_ms();
    let app = store.create_app("Demo", "hash", now).await.unwrap();
    server::demo::seed::seed(&store, app.id, 40, now).await.expect("seed");
    assert!(store.count_segments(app.id).await.unwrap() >= 30);
    let mut memberships = 0;
    for index in 0..40 {
        let user = store.user_by_external_id(app.id, &server::demo::user_external_id(index)).await.unwrap().unwrap();
        memberships += store.segments_of_user(app.id, user.id).await.unwrap().len();
    }
    assert!(memberships >= 40, "about four segments per user, got {memberships} in all");
    let search = app::segments::service::search(&store, app.id, 0, "vip").await.unwrap();
    let names: Vec<&str> = search.matches.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["VIP", "VIP Gold"]);
});
