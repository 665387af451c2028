//! The per-hour event counts behind unfiltered histograms stay equal to the
//! events themselves through everything that stores or deletes events:
//! batches with duplicates and resends, events that name their user through
//! a device, bulk loads, a user's deletion (including another user's events
//! on its devices) and the retention. Each histogram is checked against a
//! brute-force count of the stored events, on SQLite and on PostgreSQL.

use app::activity::model::{EventQuery, Period};
use app::store::{BulkEvent, EventInput, Store, HOUR_MS};
use app::store_test;
use app::test_fixtures::new_user_with_device;
use app::time::now_ms;

const DAY: i64 = 24 * HOUR_MS;

/// A deterministic spread of times over `[from, from + span)`.
fn times(seed: u64, n: usize, from: i64, span: i64) -> Vec<i64> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            from + ((x >> 33) as i64).rem_euclid(span)
        })
        .collect()
}

fn event(client_id: Option<String>, user: Option<&str>, device: Option<&str>, at: i64) -> EventInput {
    EventInput {
        client_id: client_id.map(|c| c.parse().unwrap()),
        event_type: "app.open".into(),
        user_external_id: user.map(|u| u.parse().unwrap()),
        device_external_id: device.map(|d| d.parse().unwrap()),
        occurred_at: at,
        ..Default::default()
    }
}

/// The histogram without filters, and the same bars counted one by one
/// from the user's stored events.
async fn histogram_and_truth(
    store: &Store,
    app: i64,
    user: i64,
    from: i64,
    to: i64,
    bucket: i64,
) -> (Vec<i64>, Vec<i64>) {
    let query = EventQuery { period: Period { from, to }, event_type: None, text: None };
    let histogram = store.user_event_histogram(app, user, &query, bucket).await.unwrap();
    let events = store.user_events_after(app, user, 0, 1_000_000).await.unwrap();
    let truth = (0..histogram.counts.len() as i64)
        .map(|k| {
            let (lo, hi) = (from + k * bucket, (from + (k + 1) * bucket).min(to));
            events.iter().filter(|e| e.occurred_at >= lo && e.occurred_at < hi).count() as i64
        })
        .collect();
    (histogram.counts, truth)
}

/// Bars of days and of hours, on and off the hour, over the last 30 days.
async fn assert_exact(store: &Store, app: i64, user: i64, now: i64, what: &str) {
    for (from, bucket) in [(now - 30 * DAY, DAY), (now - 30 * DAY - now % HOUR_MS, DAY), (now - 3 * DAY, HOUR_MS)] {
        let (counts, truth) = histogram_and_truth(store, app, user, from, now + 1, bucket).await;
        assert_eq!(counts, truth, "{what}: bars of {bucket} ms from {from}");
    }
}

store_test!(hour_counts_follow_ingest_resends_and_bulk_loads, |store: Store| async move {
    let now = now_ms();
    let app = store.create_app("Hours", "hash", 1).await.unwrap().id;
    let heavy = new_user_with_device(&store, app, "heavy").await;
    let light = new_user_with_device(&store, app, "light").await;
    assert_exact(&store, app, heavy, now, "no events").await;

    // 600 events over 30 days: with client ids, without, and through the device only.
    let at = times(7, 600, now - 30 * DAY, 30 * DAY);
    let batch: Vec<EventInput> = at
        .iter()
        .enumerate()
        .map(|(i, &t)| match i % 3 {
            0 => event(Some(format!("c-{i}")), Some("heavy"), None, t),
            1 => event(None, Some("heavy"), Some("heavy-d"), t),
            _ => event(Some(format!("c-{i}")), None, Some("heavy-d"), t),
        })
        .collect();
    for part in batch.chunks(250) {
        store.insert_events(app, part, now).await.unwrap();
    }
    assert_exact(&store, app, heavy, now, "after ingest").await;

    // The client-id events again, with a repeat inside the batch: all duplicates.
    let mut resend: Vec<EventInput> = batch.iter().filter(|e| e.client_id.is_some()).cloned().collect();
    resend.push(resend[0].clone());
    let outcome = store.insert_events(app, &resend, now).await.unwrap();
    assert_eq!(outcome.accepted, 0);
    assert_exact(&store, app, heavy, now, "after a resend").await;

    // Half resent, half new: only the new ones count (SQLite skips the
    // others itself; its counts then come from what it stored).
    let mut mixed: Vec<EventInput> = resend.iter().take(50).cloned().collect();
    let fresh = times(13, 50, now - 30 * DAY, 30 * DAY);
    mixed.extend(fresh.iter().enumerate().map(|(i, &t)| event(Some(format!("m-{i}")), Some("heavy"), None, t)));
    let outcome = store.insert_events(app, &mixed, now).await.unwrap();
    assert_eq!((outcome.accepted, outcome.duplicates), (50, 50));
    assert_exact(&store, app, heavy, now, "after a half-resent batch").await;

    // A bulk load (the bench's seeding) counts too; the other user is untouched.
    let bulk: Vec<BulkEvent> = times(11, 300, now - 30 * DAY, 30 * DAY)
        .into_iter()
        .map(|t| BulkEvent {
            event_type: "bulk".into(),
            user_id: Some(heavy),
            device_id: None,
            occurred_at: t,
            data: None,
        })
        .collect();
    store.bulk_insert_events(app, &bulk, now).await.unwrap();
    store.insert_events(app, &[event(None, Some("light"), None, now - DAY)], now).await.unwrap();
    assert_exact(&store, app, heavy, now, "after a bulk load").await;
    assert_exact(&store, app, light, now, "the other user").await;
    let query = EventQuery { period: Period { from: now - 30 * DAY, to: now + 1 }, event_type: None, text: None };
    assert_eq!(store.user_event_histogram(app, heavy, &query, DAY).await.unwrap().total(), 950);
});

store_test!(hour_counts_follow_deletions_and_retention, |store: Store| async move {
    let now = now_ms();
    let app = store.create_app("Hours", "hash", 1).await.unwrap().id;
    let kept = new_user_with_device(&store, app, "kept").await;
    let gone = new_user_with_device(&store, app, "gone").await;
    // "kept" has events of its own and some on the device of "gone".
    let own: Vec<EventInput> =
        times(3, 200, now - 30 * DAY, 30 * DAY).into_iter().map(|t| event(None, Some("kept"), None, t)).collect();
    let borrowed: Vec<EventInput> = times(5, 50, now - 30 * DAY, 30 * DAY)
        .into_iter()
        .map(|t| event(None, Some("kept"), Some("gone-d"), t))
        .collect();
    store.insert_events(app, &own, now).await.unwrap();
    store.insert_events(app, &borrowed, now).await.unwrap();
    assert_exact(&store, app, kept, now, "before the deletion").await;

    let erased = app::store::write_tx!(store, |tx| tx.delete_user(app, gone).await).unwrap().unwrap();
    assert_eq!(erased.events, 50, "the events on the deleted user's device go with it");
    assert_exact(&store, app, kept, now, "after deleting the device's user").await;

    // Old events (400 days back): a pass as if then makes their months on
    // PostgreSQL; the retention of 90 days then takes them and their counts.
    let old: Vec<EventInput> =
        times(9, 120, now - 420 * DAY, 60 * DAY).into_iter().map(|t| event(None, Some("kept"), None, t)).collect();
    store.insert_events(app, &old, now).await.unwrap();
    store.maintain_events(now - 400 * DAY, None).await.unwrap();
    let far = event(None, Some("kept"), None, now - 2_000 * DAY); // outside every month: the default partition
    store.insert_events(app, &[far], now).await.unwrap();
    let (counts, truth) = histogram_and_truth(&store, app, kept, now - 420 * DAY, now - 360 * DAY, DAY).await;
    assert_eq!((counts.iter().sum::<i64>(), counts), (120, truth), "old events counted before the retention");

    store.maintain_events(now, Some(90)).await.unwrap();
    for (from, to) in [(now - 420 * DAY, now - 360 * DAY), (now - 2_010 * DAY, now - 1_990 * DAY)] {
        let (counts, truth) = histogram_and_truth(&store, app, kept, from, to, DAY).await;
        assert_eq!(counts, truth, "after the retention, from {from}");
        assert!(counts.iter().all(|&n| n == 0), "nothing left that old");
    }
    assert_exact(&store, app, kept, now, "recent events after the retention").await;
});

store_test!(an_apps_events_go_with_their_counts_and_claims, |store: Store| async move {
    let now = now_ms();
    let (gone, kept) = (
        store.create_app("Gone", "hash-g", 1).await.unwrap().id,
        store.create_app("Kept", "hash-k", 1).await.unwrap().id,
    );
    let (g, k) = (new_user_with_device(&store, gone, "g").await, new_user_with_device(&store, kept, "k").await);
    // More than one of the deletion's chunks (20,000), with client ids.
    let at = times(5, 45_000, now - 30 * DAY, 30 * DAY);
    for (app, user) in [(gone, "g"), (kept, "k")] {
        let batch: Vec<EventInput> =
            at.iter().enumerate().map(|(i, &t)| event(Some(format!("c-{i}")), Some(user), None, t)).collect();
        for part in batch.chunks(5_000) {
            store.insert_events(app, part, now).await.unwrap();
        }
    }
    assert_eq!(store.delete_app_events(gone).await.unwrap(), 45_000);
    assert_eq!(store.count_events(gone).await.unwrap(), 0);
    assert_exact(&store, gone, g, now, "the deleted app's counts").await;
    assert_eq!(store.count_events(kept).await.unwrap(), 45_000, "the other app keeps its events");
    assert_exact(&store, kept, k, now, "the other app's counts").await;
    // Its client ids are free again: the same batch is stored anew, not refused as duplicates.
    let again = store.insert_events(gone, &[event(Some("c-0".into()), Some("g"), None, now - DAY)], now).await.unwrap();
    assert_eq!((again.accepted, again.duplicates), (1, 0));
});
