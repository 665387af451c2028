//! The Live page's reads against brute force on both databases: "active
//! now" per window and platform (and the users list's `?active=` filter
//! agreeing with it), the top event types of the last hour per minute, the
//! newest events and the live map's positions, with deactivated users and
//! other apps' data nowhere.

use std::collections::HashMap;

use app::live_page::service::{overview, SHOWN_EVENTS};
use app::live_page::LiveView;
use app::model::devices::DeviceAttributes;
use app::model::live::ACTIVE_WINDOWS;
use app::model::users::UserScope;
use app::model::{UserFilter, UserSort};
use app::store::event_minutes::minute_of;
use app::store::{Budget, DeviceInput, EventInput, LocationInput, Store, SEEN_PRECISION_MS};
use app::store_test;
use app::test_fixtures::{new_app, new_user};

const MINUTE: i64 = 60_000;
const USERS: i64 = 40;

/// A deterministic spread of numbers in `[0, span)`.
fn spread(seed: u64, n: usize, span: i64) -> Vec<i64> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            ((x >> 33) as i64).rem_euclid(span)
        })
        .collect()
}

fn event(kind: &str, user: &str, at: i64) -> EventInput {
    EventInput {
        event_type: kind.into(),
        user_external_id: Some(user.parse().unwrap()),
        device_external_id: Some(format!("{user}-d").parse().unwrap()),
        occurred_at: at,
        data: Some(format!(r#"{{"screen":"s{}"}}"#, at % 7)),
        ..Default::default()
    }
}

/// What the test knows of one seeded user.
struct Seeded {
    id: i64,
    platform: &'static str,
    last_event: Option<i64>,
    active: bool,
}

/// `USERS` users of app `name`, each with one device (iOS or Android),
/// events spread over the last 40 minutes for most of them, of four types;
/// every fifth user deactivated. Returns the users by userID and the events.
async fn seed(store: &Store, name: &str, now: i64) -> (i64, HashMap<String, Seeded>, Vec<EventInput>) {
    let app = new_app(store, name).await;
    let mut users = HashMap::new();
    let mut events = Vec::new();
    let offsets = spread(name.len() as u64, (USERS * 3) as usize, 40 * MINUTE);
    for i in 0..USERS {
        let external = format!("{name}-u{i}");
        let id = new_user(store, app, &external).await;
        let platform = if i % 3 == 0 { "Android" } else { "iOS" };
        let device = DeviceInput {
            user_external_id: Some(external.parse().unwrap()),
            attributes: DeviceAttributes { platform: platform.into(), ..Default::default() },
            ..Default::default()
        };
        let device_id = store.upsert_device(app, &format!("{external}-d").parse().unwrap(), &device, 1).await.unwrap();
        let mut last_event = None;
        if i % 7 != 6 {
            for k in 0..3 {
                let at = now - offsets[(i * 3 + k) as usize] - 1;
                let kind = ["app.open", "screen.view", "purchase", "screen.view"][((i + k) % 4) as usize];
                events.push(event(kind, &external, at));
                last_event = last_event.max(Some(at));
            }
            let fix =
                LocationInput { latitude: 38.7 + i as f64 / 100.0, longitude: -9.1, accuracy: None, recorded_at: now };
            store.add_locations(app, device_id, &[fix]).await.unwrap();
        }
        users.insert(external, Seeded { id, platform, last_event, active: i % 5 != 4 });
    }
    store.insert_events(app, &events, now).await.unwrap();
    for user in users.values().filter(|u| !u.active) {
        store.set_user_active(app, user.id, false, now).await.unwrap();
    }
    (app, users, events)
}

store_test!(active_now_counts_the_users_the_events_say_and_the_list_agrees, |store: Store| async move {
    let now = app::time::now_ms();
    let (app, users, _) = seed(&store, "Live", now).await;
    // Another app, just as busy, counts nowhere.
    seed(&store, "Elsewhere", now).await;
    let active = store.active_now(app, now).await.unwrap();
    for (slot, window) in ACTIVE_WINDOWS.into_iter().enumerate() {
        // Last activity is kept to the minute: a window starts at the start
        // of the minute `window` before now.
        let since = window.since(now, SEEN_PRECISION_MS);
        let recent = |u: &&Seeded| u.active && u.last_event.is_some_and(|at| at >= since);
        let want = users.values().filter(recent).count() as i64;
        assert_eq!(active.users[slot], want, "users active in {}", window.label());
        for platform in &active.platforms {
            let want = users.values().filter(recent).filter(|u| u.platform == platform.platform).count() as i64;
            assert_eq!(platform.users[slot], want, "{} users active in {}", platform.platform, window.label());
        }
        // The list the count links to shows the same users.
        let filter = UserFilter { sort: UserSort::LastActivity, active: Some(window), ..Default::default() };
        let scope = UserScope { segment: None, active_since: Some(since) };
        let page = store.users_page_within(app, &filter, scope, None, 100, Budget::default()).await.unwrap();
        assert_eq!(page.total, want, "the users list active in {}", window.label());
        assert_eq!(page.users.len() as i64, want);
    }
    assert!(active.users[2] > active.users[0], "the seed spreads over the windows: {active:?}");
    let platforms: Vec<&str> = active.platforms.iter().map(|p| p.platform.as_str()).collect();
    assert_eq!(platforms.len(), 2, "{platforms:?}");
    // Every seeded user was created at time 1: none in the last hour.
    assert_eq!(active.new_last_hour, 0);
    new_user(&store, app, "brand-new").await;
    let fresh = app::store::UserInput { user_name: Some("Fresh"), email: None };
    store.upsert_user(app, &"fresh".parse().unwrap(), &fresh, now - MINUTE).await.unwrap();
    assert_eq!(store.active_now(app, now).await.unwrap().new_last_hour, 1);
});

store_test!(top_event_types_count_the_last_hour_per_minute, |store: Store| async move {
    let now = app::time::now_ms();
    let (app, users, mut events) = seed(&store, "Top", now).await;
    let _ = users;
    // Events older than the hour, and from a clock ahead of ours.
    let late = vec![event("app.open", "Top-u1", now - 61 * MINUTE), event("purchase", "Top-u1", now + 5 * MINUTE)];
    store.insert_events(app, &late, now).await.unwrap();
    events.extend(late);
    let (other, _, _) = seed(&store, "Other", now).await;
    let top = store.top_event_types(app, now, 10).await.unwrap();
    let first = minute_of(now) - 59 * MINUTE;
    let mut want: HashMap<String, Vec<i64>> = HashMap::new();
    for e in events.iter().filter(|e| e.occurred_at >= first && e.occurred_at <= now) {
        want.entry(e.event_type.clone()).or_insert_with(|| vec![0; 60])[((e.occurred_at - first) / MINUTE) as usize] +=
            1;
    }
    assert_eq!(top.len(), want.len());
    for t in &top {
        assert_eq!(t.per_minute, want[&t.event_type], "{} per minute", t.event_type);
        assert_eq!(t.total, t.per_minute.iter().sum::<i64>());
    }
    assert!(top.windows(2).all(|w| w[0].total >= w[1].total), "busiest first");
    assert_eq!(store.top_event_types(app, now, 2).await.unwrap(), top[..2]);
    // Two hours on, the maintenance forgets them; the other app's stay.
    let later = now + 3 * 3600 * 1000;
    assert!(store.forget_event_minutes(later).await.unwrap() > 0);
    assert!(store.top_event_types(app, now, 10).await.unwrap().is_empty());
    store.insert_events(other, &[event("app.open", "Other-u1", later)], later).await.unwrap();
    assert_eq!(store.top_event_types(other, later, 10).await.unwrap()[0].total, 1);
});

store_test!(the_overview_shows_active_users_events_and_positions_of_this_app_only, |store: Store| async move {
    let now = app::time::now_ms();
    let (app, users, events) = seed(&store, "View", now).await;
    let (other, _, _) = seed(&store, "Away", now).await;
    let by_id: HashMap<i64, &Seeded> = users.values().map(|u| (u.id, u)).collect();
    let (first, segment) = overview(&store, app, &LiveView::default(), now).await.unwrap();
    assert_eq!(segment, None);
    let shown = events.iter().filter(|e| users[&e.user_external_id.as_ref().unwrap().to_string()].active).count();
    assert_eq!(first.events.len(), shown.min(SHOWN_EVENTS as usize));
    assert!(first.events.windows(2).all(|w| w[0].event.id > w[1].event.id), "newest first");
    for e in &first.events {
        let user = by_id[&e.event.user_id.unwrap()];
        assert!(user.active, "a deactivated user's event is not shown");
        assert_eq!(e.platform.as_deref(), Some(user.platform));
    }
    assert_eq!(first.after, first.events[0].event.id);
    let mapped: Vec<i64> = first.positions.iter().map(|p| p.user_id).collect();
    let want = users.values().filter(|u| u.active && u.last_event.is_some()).count();
    assert_eq!(mapped.len(), want, "one position per active device of an active user");
    assert!(mapped.iter().all(|id| by_id.get(id).is_some_and(|u| u.active)), "this app's active users only");
    // Filters: a type, the platform, text in data, a segment.
    let view = LiveView { types: vec!["purchase".into()], platform: Some("Android".into()), ..Default::default() };
    let (filtered, _) = overview(&store, app, &view, now).await.unwrap();
    assert!(!filtered.events.is_empty());
    assert!(filtered
        .events
        .iter()
        .all(|e| e.event.event_type == "purchase" && e.platform.as_deref() == Some("Android")));
    let text = LiveView { text: Some("S3".into()), ..Default::default() };
    let (found, _) = overview(&store, app, &text, now).await.unwrap();
    assert!(!found.events.is_empty() && found.events.iter().all(|e| e.event.data.as_deref().unwrap().contains("s3")));
    let segment = store.create_segment(app, "Watched", "", 1).await.unwrap();
    let member = users["View-u1"].id;
    store.add_segment_members(segment, &[member], "test", 1).await.unwrap();
    let watched = LiveView { segment: Some("Watched".into()), ..Default::default() };
    let (members, id) = overview(&store, app, &watched, now).await.unwrap();
    assert_eq!(id, Some(segment));
    assert!(!members.events.is_empty() && members.events.iter().all(|e| e.event.user_id == Some(member)));
    // Another app's segment is not found by this app's page.
    store.create_segment(other, "Theirs", "", 1).await.unwrap();
    let theirs = LiveView { segment: Some("Theirs".into()), ..Default::default() };
    assert_eq!(overview(&store, app, &theirs, now).await.unwrap_err().status_code(), 404);
});

store_test!(the_fan_out_reads_a_commits_events_of_the_watched_apps_in_id_order, |store: Store| async move {
    use app::store::StoredIds;
    let now = app::time::now_ms();
    let (app, users, _) = seed(&store, "fan", now).await;
    let (other, _, _) = seed(&store, "elsewhere", now).await;
    let asleep = users.iter().find(|(_, u)| !u.active).map(|(name, _)| name.clone()).unwrap();
    let batch =
        [event("purchase", "fan-u0", now), event("app.open", &asleep, now + 1), event("tap", "fan-u1", now + 2)];
    let stored = store.insert_events(app, &batch, now).await.unwrap().stored;
    store.insert_events(other, &[event("tap", "elsewhere-u0", now)], now).await.unwrap();
    let ids: Vec<i64> = match &stored {
        StoredIds::Range { after, up_to } => (after + 1..=*up_to).collect(),
        StoredIds::List(ids) => ids.clone(),
        StoredIds::None => panic!("nothing stored"),
    };
    assert_eq!(ids.len(), 3);
    // The commit's own form (a range on SQLite, a list on PostgreSQL), and
    // a list with another app's id in it.
    let mut listed = ids.clone();
    listed.push(ids[2] + 1);
    for (ids, apps) in [(stored, vec![app]), (StoredIds::List(listed), vec![app])] {
        let events = store.live_events_stored(&ids, &apps).await.unwrap();
        let seen: Vec<(&str, Option<&str>, Option<&str>, bool)> = events
            .iter()
            .map(|e| (e.event.event_type.as_str(), e.user_external_id.as_deref(), e.platform.as_deref(), e.user_active))
            .collect();
        let platform = |name: &str| Some(users[name].platform);
        assert_eq!(
            seen,
            [
                ("purchase", Some("fan-u0"), platform("fan-u0"), true),
                ("app.open", Some(asleep.as_str()), platform(&asleep), false),
                ("tap", Some("fan-u1"), platform("fan-u1"), true),
            ]
        );
        assert!(events.windows(2).all(|w| w[0].event.id < w[1].event.id), "id order");
        assert_eq!(events[0].event.data.as_deref(), batch[0].data.as_deref(), "data as sent");
        assert_eq!(events[0].event.device_name.as_deref(), platform("fan-u0"), "the device's name");
    }
    let none = store.live_events_stored(&StoredIds::List(ids), &[other]).await.unwrap();
    assert!(none.is_empty(), "another app's page reads none of them");
});
