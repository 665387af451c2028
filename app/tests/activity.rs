//! The profile's activity: last hour, event search with keyset paging and a
//! bounded text filter, histogram, types and the unified timeline, each test
//! on SQLite and on PostgreSQL (`store_test!`). Expectations are computed by
//! brute force over every stored event, not written down as constants.

use std::collections::HashSet;

use app::activity::model::{ActivityEvent, EventQuery, Period, SearchParams, TimelineKind};
use app::activity::service;
use app::error::AppError;
use app::store::{EventInput, NewAudit, NewMessage, Store};
use app::store_test;
use app::test_fixtures::{new_app, new_user_with_device};
use app::time::now_ms;

const HOUR: i64 = 3_600_000;
const T0: i64 = 1_700_000_000_000;

/// Stores `(type, occurred_at, data)` events of user `external_id`.
async fn add(store: &Store, app_id: i64, external_id: &str, events: &[(&str, i64, &str)]) {
    let batch: Vec<EventInput> = events
        .iter()
        .map(|(event_type, at, data)| EventInput {
            event_type: event_type.to_string(),
            user_external_id: Some(external_id.parse().unwrap()),
            device_external_id: Some(format!("{external_id}-d").parse().unwrap()),
            occurred_at: *at,
            data: Some(data.to_string()),
            ..Default::default()
        })
        .collect();
    store.insert_events(app_id, &batch, now_ms()).await.expect("insert events");
}

/// Every event of the user, by brute force.
async fn all_events(store: &Store, app_id: i64, user_id: i64) -> Vec<ActivityEvent> {
    store.user_events_after(app_id, user_id, 0, 1_000_000).await.unwrap()
}

/// `events` matching `query`, newest first: the search's expected answer.
fn expected(events: &[ActivityEvent], query: &EventQuery) -> Vec<i64> {
    let mut hits: Vec<&ActivityEvent> = events
        .iter()
        .filter(|e| e.occurred_at >= query.period.from && e.occurred_at < query.period.to)
        .filter(|e| query.event_type.as_ref().is_none_or(|t| &e.event_type == t))
        .filter(|e| {
            let data = e.data.as_deref().unwrap_or("").to_lowercase();
            query.text.as_ref().is_none_or(|t| data.contains(&t.to_lowercase()))
        })
        .collect();
    hits.sort_by_key(|e| std::cmp::Reverse((e.occurred_at, e.id)));
    hits.iter().map(|e| e.id).collect()
}

fn query(from: i64, to: i64, event_type: Option<&str>, text: Option<&str>) -> EventQuery {
    EventQuery { period: Period { from, to }, event_type: event_type.map(Into::into), text: text.map(Into::into) }
}

/// Every page of the search (checked to be newest first and at most `limit`
/// long), its ids concatenated, and whether some page was partial.
async fn every_page(store: &Store, app: i64, user: i64, q: &EventQuery, limit: i64, budget: i64) -> (Vec<i64>, bool) {
    let (mut ids, mut partial, mut cursor) = (Vec::new(), false, None::<String>);
    for _ in 0..10_000 {
        let page = service::search_page(store, app, user, q, cursor.as_deref(), limit, budget).await.unwrap();
        assert!(page.events.len() as i64 <= limit);
        assert!(page.events.windows(2).all(|w| (w[0].occurred_at, w[0].id) > (w[1].occurred_at, w[1].id)));
        partial |= page.partial;
        ids.extend(page.events.iter().map(|e| e.id));
        cursor = page.next_cursor;
        if cursor.is_none() {
            return (ids, partial);
        }
    }
    panic!("paging never ended");
}

fn invalid_field(err: AppError) -> String {
    match err {
        AppError::Invalid { field: Some(field), message } => {
            assert!(!message.is_empty());
            field
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

store_test!(period_is_from_inclusive_to_exclusive, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let user = new_user_with_device(&store, app, "u1").await;
    let (from, to) = (T0, T0 + HOUR);
    add(&store, app, "u1", &[("x", from - 1, "{}"), ("x", from, "{}"), ("x", to - 1, "{}"), ("x", to, "{}")]).await;
    let q = query(from, to, None, None);
    let page = service::search_page(&store, app, user, &q, None, 50, 100).await.unwrap();
    let times: Vec<i64> = page.events.iter().map(|e| e.occurred_at).collect();
    assert_eq!(times, [to - 1, from], "from is in, to is out");
    assert_eq!(page.events[0].device_name.as_deref(), Some("iPhone15,2"));
    assert_eq!(service::histogram_of(&store, app, user, &q).await.unwrap().total(), 2);
    assert_eq!(page.next_cursor, None);
});

store_test!(last_hour_is_newest_first_and_shows_deactivated_users, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let user = new_user_with_device(&store, app, "u1").await;
    let now = now_ms();
    add(&store, app, "u1", &[("old", now - 2 * HOUR, "{}"), ("a", now - HOUR / 2, "{}"), ("b", now - 1_000, "{}")])
        .await;
    let types = |events: Vec<ActivityEvent>| events.into_iter().map(|e| e.event_type).collect::<Vec<_>>();
    assert_eq!(types(service::recent(&store, app, user).await.unwrap()), ["b", "a"]);
    store.set_user_active(app, user, false, now).await.unwrap();
    assert_eq!(types(service::recent(&store, app, user).await.unwrap()), ["b", "a"]);
});

store_test!(type_and_text_filters_match_exactly_and_literally, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let user = new_user_with_device(&store, app, "u1").await;
    let data = [
        r#"{"deal":"50% OFF"}"#,
        r#"{"deal":"500 off"}"#,
        r#"{"k":"a_b"}"#,
        r#"{"k":"axb"}"#,
        r#"{"p":"back\\slash"}"#,
        r#"{"p":"backslash"}"#,
        r#"{"m":"Hello World"}"#,
    ];
    let mut rows = Vec::new();
    for (i, d) in data.iter().enumerate() {
        let event_type = ["app.open", "app.opened", "App.Open"][i % 3];
        rows.push((event_type, T0 + i as i64 * 1_000, *d));
    }
    add(&store, app, "u1", &rows).await;
    let all = all_events(&store, app, user).await;
    let cases = [
        (None, Some("50%")),
        (None, Some("%")),
        (None, Some("_")),
        (None, Some("a_b")),
        (None, Some("k\\s")),
        (None, Some("hello WORLD")),
        (None, Some("OFF")),
        (Some("app.open"), None),
        (Some("App.Open"), None),
        (Some("app.open"), Some("off")),
        (Some("app.ope"), None),
    ];
    for (event_type, text) in cases {
        let q = query(T0, T0 + HOUR, event_type, text);
        let want = expected(&all, &q);
        let (got, _) = every_page(&store, app, user, &q, 50, 1_000).await;
        assert_eq!(got, want, "type {event_type:?}, text {text:?}");
        let total = service::histogram_of(&store, app, user, &q).await.unwrap().total();
        assert_eq!(total, want.len() as i64, "histogram of type {event_type:?}, text {text:?}");
    }
    // Wildcards are literal: "%" is not "anything", "_" not "any character".
    assert_eq!(expected(&all, &query(T0, T0 + HOUR, None, Some("_"))).len(), 1);
    let mut types = service::types(&store, app).await.unwrap();
    types.sort();
    assert_eq!(types, ["App.Open", "app.open", "app.opened"]);
});

store_test!(paging_has_no_duplicates_or_gaps_while_events_arrive, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let user = new_user_with_device(&store, app, "u1").await;
    let (from, to) = (T0, T0 + 10 * HOUR);
    // 150 events, many sharing a millisecond (ties break by id).
    let initial: Vec<(&str, i64, &str)> =
        (0..150).map(|i| ("tick", from + 5 * HOUR + (i / 3) * 60_000, "{}")).collect();
    add(&store, app, "u1", &initial).await;
    let q = query(from, to, None, None);
    let mut want: HashSet<i64> = expected(&all_events(&store, app, user).await, &q).into_iter().collect();
    let (mut seen, mut cursor, mut loads) = (Vec::new(), None::<String>, 0);
    loop {
        let page = service::search_page(&store, app, user, &q, cursor.as_deref(), 7, 100).await.unwrap();
        seen.extend(page.events.iter().map(|e| e.id));
        let Some(next) = page.next_cursor else { break };
        let last = page.events.last().unwrap().occurred_at;
        cursor = Some(next);
        if last < from + HOUR {
            continue; // Among the late ones now: a late one could land above the cursor.
        }
        loads += 1;
        // Newer events (above the cursor, one at its very millisecond) stay out;
        // a late one below the cursor must be found by a later page.
        let before = all_events(&store, app, user).await.len();
        add(&store, app, "u1", &[("new", last, "{}"), ("new", to - loads, "{}"), ("late", from + loads, "{}")]).await;
        let after = all_events(&store, app, user).await;
        let late = after[before..].iter().find(|e| e.event_type == "late").unwrap();
        want.insert(late.id);
    }
    assert!(loads > 20, "many page loads: {loads}");
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no event on two pages");
    assert_eq!(unique, want, "every event of the first load and every late one, nothing newer");
});

store_test!(partial_text_pages_are_never_wrong, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let user = new_user_with_device(&store, app, "u1").await;
    let rows: Vec<(&str, i64, &str)> = (0..120)
        .map(|i| {
            let data = if i % 11 == 0 { r#"{"needle":"FOUND"}"# } else { r#"{"hay":1}"# };
            (if i % 2 == 0 { "even" } else { "odd" }, T0 + (i / 2) * 1_000, data)
        })
        .collect();
    add(&store, app, "u1", &rows).await;
    let all = all_events(&store, app, user).await;
    for event_type in [None, Some("even")] {
        let q = query(T0, T0 + HOUR, event_type, Some("found"));
        let want = expected(&all, &q);
        assert!(want.len() > 5);
        let (got, partial) = every_page(&store, app, user, &q, 3, 8).await;
        assert!(partial, "a budget of 8 rows runs out before 3 matches");
        assert_eq!(got, want, "type {event_type:?}");
        let (unbounded, partial) = every_page(&store, app, user, &q, 3, 10_000).await;
        assert!(!partial);
        assert_eq!(unbounded, want);
    }
});

store_test!(histogram_buckets_sum_to_the_search_and_show_zeros, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let user = new_user_with_device(&store, app, "u1").await;
    let other = new_user_with_device(&store, app, "u2").await;
    let rows: Vec<(&str, i64, &str)> = (0..40)
        .map(|i| (if i % 4 == 0 { "b" } else { "a" }, T0 + (i % 20) * 180_000 + 2 * HOUR * (i / 20), "{}"))
        .collect();
    add(&store, app, "u1", &rows).await;
    add(&store, app, "u2", &[("a", T0, "{}")]).await;
    let all = all_events(&store, app, user).await;
    for (span, bucket) in [(2 * HOUR, 60_000), (3 * HOUR, HOUR), (72 * HOUR, HOUR), (96 * HOUR, 24 * HOUR)] {
        for event_type in [None, Some("b")] {
            let q = query(T0, T0 + span, event_type, None);
            let h = service::histogram_of(&store, app, user, &q).await.unwrap();
            assert_eq!(h.bucket_ms, bucket, "span {span}");
            assert_eq!(h.counts.len() as i64, (span + bucket - 1) / bucket, "every bucket present");
            let want = expected(&all, &q);
            assert_eq!(h.total(), want.len() as i64, "span {span}, type {event_type:?}");
            for (i, count) in h.counts.iter().enumerate() {
                let start = T0 + i as i64 * bucket;
                let inside = all
                    .iter()
                    .filter(|e| want.contains(&e.id) && e.occurred_at >= start && e.occurred_at < start + bucket);
                assert_eq!(*count, inside.count() as i64, "bucket {i} of span {span}");
            }
        }
    }
    let h = service::histogram_of(&store, app, user, &query(T0, T0 + 3 * HOUR, None, None)).await.unwrap();
    assert_eq!(h.counts[1], 0, "the empty hour is there, as zero: {:?}", h.counts);
    let h = service::histogram_of(&store, app, other, &query(T0, T0 + 3 * HOUR, None, None)).await.unwrap();
    assert_eq!(h.total(), 1, "only the user's own events");
});

store_test!(invalid_searches_get_clear_errors, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let user = new_user_with_device(&store, app, "u1").await;
    let params =
        |from: &str, to: &str| SearchParams { from: Some(from.into()), to: Some(to.into()), ..Default::default() };
    let cases = [
        (params("2024-05-02T00:00", "2024-05-01T00:00"), "from"),
        (params("2024-05-01T00:00", "2024-05-01T00:00"), "from"),
        (params("tomorrow", "2024-05-01T00:00"), "from"),
        (params("2024-05-01T00:00", "2024-13-01T00:00"), "to"),
        (params("2023-01-01T00:00:00Z", "2024-05-01T00:00:00Z"), "from"),
        (SearchParams { text: Some("x".repeat(201)), ..Default::default() }, "text"),
        (SearchParams { event_type: Some("t".repeat(256)), ..Default::default() }, "event_type"),
    ];
    for (params, field) in cases {
        let err = service::search(&store, app, user, &params, None).await.unwrap_err();
        assert_eq!(invalid_field(err), field, "search {params:?}");
        let err = service::histogram(&store, app, user, &params).await.unwrap_err();
        assert_eq!(invalid_field(err), field, "histogram {params:?}");
    }
    let fine = SearchParams { text: Some("x".repeat(200)), ..params("2024-05-01T00:00", "2024-05-01T00:01") };
    assert!(service::search(&store, app, user, &fine, None).await.is_ok());
    let err = service::search(&store, app, user, &fine, Some("not a cursor")).await.unwrap_err();
    assert_eq!(invalid_field(err), "cursor");
    let week = service::parse_query(&SearchParams { from: Some("7d".into()), ..Default::default() }, T0).unwrap();
    assert_eq!((week.period.from, week.period.to), (T0 + 1 - 7 * 24 * HOUR, T0 + 1), "presets end now");
    let zoned = service::parse_query(&params("2024-05-01T01:00:00+01:00", "2024-05-01T00:30:00Z"), T0).unwrap();
    assert_eq!(zoned.period.to - zoned.period.from, HOUR / 2);
});

store_test!(another_apps_user_is_not_found, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let other_app = new_app(&store, "B").await;
    let user = new_user_with_device(&store, other_app, "u1").await;
    add(&store, other_app, "u1", &[("x", now_ms(), "{}")]).await;
    let not_found = |result: Result<(), AppError>| assert!(matches!(result, Err(AppError::NotFound(_))), "{result:?}");
    not_found(service::recent(&store, app, user).await.map(|_| ()));
    not_found(service::search(&store, app, user, &SearchParams::default(), None).await.map(|_| ()));
    not_found(service::histogram(&store, app, user, &SearchParams::default()).await.map(|_| ()));
    not_found(service::timeline(&store, app, user, None).await.map(|_| ()));
    assert!(service::types(&store, app).await.unwrap().is_empty(), "another app's types are not listed");
    assert_eq!(service::recent(&store, other_app, user).await.unwrap().len(), 1);
});

store_test!(timeline_merges_events_messages_and_audit_newest_first, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let user = new_user_with_device(&store, app, "u1").await;
    let other = new_user_with_device(&store, app, "u2").await;
    let mut want: Vec<(i64, TimelineKind, i64)> = Vec::new();
    for i in 0..9 {
        // Every third millisecond is shared by all three kinds.
        let at = T0 + (i / 3) * 1_000 + (i % 3);
        add(&store, app, "u1", &[("re.notifica.event.application.Open", at, "{\"n\":1}")]).await;
        let message = NewMessage {
            title: "Hi",
            body: "Hello there",
            source: "dashboard",
            sender: "admin@example.com",
            envelope_sender: None,
            created_at: at + (i % 2),
            attachments: &[],
        };
        let id = store.insert_message(app, user, &message).await.unwrap();
        want.push((at + (i % 2), TimelineKind::Message, id));
        let audit = NewAudit::on_user(app, user, "admin@example.com", "added to segment").with_detail("VIP");
        store.record_audit(&audit, at + (i % 3)).await.unwrap();
    }
    for e in all_events(&store, app, user).await {
        want.push((e.occurred_at, TimelineKind::Event, e.id));
    }
    let audits = store.recent_audit(1_000).await.unwrap();
    for a in audits.iter().filter(|a| a.user_id == Some(user)) {
        want.push((a.created_at, TimelineKind::Audit, a.id));
    }
    // Another user's rows stay out.
    add(&store, app, "u2", &[("x", T0, "{}")]).await;
    store.record_audit(&NewAudit::on_user(app, other, "admin@example.com", "deactivated"), T0).await.unwrap();
    want.sort_by_key(|(at, kind, id)| std::cmp::Reverse((*at, kind.rank(), *id)));

    let (mut got, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let page = service::timeline_page(&store, app, user, cursor.as_deref(), 4).await.unwrap();
        assert!(page.entries.len() <= 4);
        got.extend(page.entries.iter().map(|e| (e.at, e.kind, e.id)));
        if let Some(event) = page.entries.iter().find(|e| e.kind == TimelineKind::Event) {
            assert_eq!(event.title, "Application opened");
        }
        if let Some(audit) = page.entries.iter().find(|e| e.kind == TimelineKind::Audit) {
            assert_eq!((audit.detail.as_str(), audit.actor.as_deref()), ("VIP", Some("admin@example.com")));
        }
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(got, want);
});
