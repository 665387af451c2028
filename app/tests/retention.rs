//! Events over time on both databases: de-duplication by client id (on
//! PostgreSQL through `event_client_ids`, since events are partitioned by
//! month), partitions created ahead and filled from the default one, and
//! the retention setting (whole months dropped on PostgreSQL, rows deleted
//! on SQLite).

use app::store::{EventInput, Store};
use app::store_test;
use app::time::now_ms;

const DAY: i64 = 86_400_000;

fn event(client_id: &str, at: i64) -> EventInput {
    EventInput {
        client_id: Some(client_id.parse().unwrap()),
        event_type: "custom.purchase".into(),
        occurred_at: at,
        ..Default::default()
    }
}

async fn count(store: &Store, app_id: i64) -> i64 {
    store.count_events(app_id).await.expect("count events")
}

store_test!(retention_keeps_recent_events_and_client_ids_dedupe, |store: Store| async move {
    let now = now_ms();
    let app_id = store.create_app("Retention", "hash", 1).await.unwrap().id;
    let other = store.create_app("Other", "hash-2", 1).await.unwrap().id;
    let batch = [event("e-new", now - DAY), event("e-old", now - 400 * DAY), event("e-mid", now - 40 * DAY)];
    let outcome = store.insert_events(app_id, &batch, now).await.unwrap();
    assert_eq!((outcome.accepted, outcome.duplicates), (3, 0));
    // The same ids again (a retry): nothing new; another app may reuse them.
    let again = store.insert_events(app_id, &batch, now).await.unwrap();
    assert_eq!((again.accepted, again.duplicates), (0, 3));
    assert_eq!(store.insert_events(other, &batch[..1], now).await.unwrap().accepted, 1);
    assert_eq!(count(&store, app_id).await, 3);

    // A pass as if it ran 400 days ago makes that month's partition on
    // PostgreSQL and moves the old event in from the default partition.
    // Two instances doing it at once: each month is made once, no error.
    let (a, b) =
        tokio::join!(store.maintain_events(now - 400 * DAY, None), store.maintain_events(now - 400 * DAY, None));
    let mut created = [a.unwrap().created, b.unwrap().created].concat();
    created.sort();
    if store.backend_name() == "postgres" {
        assert_eq!(created.len(), 3, "that month and the two after, once each: {created:?}");
        let months: Vec<String> = store.event_partitions().await.unwrap().into_iter().map(|p| p.0).collect();
        assert!(created.iter().all(|m| months.contains(m)), "{months:?}");
    }
    assert_eq!(count(&store, app_id).await, 3, "moving rows between partitions loses none");

    // No retention: nothing goes. Then 90 days: the 400-day-old event goes.
    assert_eq!(store.maintain_events(now, None).await.unwrap().deleted, 0);
    assert_eq!(count(&store, app_id).await, 3);
    let done = store.maintain_events(now, Some(90)).await.unwrap();
    assert_eq!(count(&store, app_id).await, 2, "the 1- and 40-day-old events stay");
    assert_eq!(count(&store, other).await, 1);
    if store.backend_name() == "postgres" {
        assert_eq!(done.dropped, created, "the old months are dropped whole");
        assert_eq!(done.deleted, 0, "nothing old in the default partition");
        let left: Vec<String> = store.event_partitions().await.unwrap().into_iter().map(|p| p.0).collect();
        assert!(!left.contains(&done.dropped[0]));
    } else {
        assert_eq!(done.deleted, 1);
    }
    // Recent events still de-duplicate after the pass.
    assert_eq!(store.insert_events(app_id, &batch[..1], now).await.unwrap().duplicates, 1);
    // Events far outside any month (year 2200) are kept in the default partition.
    let far = event("e-far", 7_258_118_400_000);
    assert_eq!(store.insert_events(app_id, &[far], now).await.unwrap().accepted, 1);
    assert_eq!(count(&store, app_id).await, 3);
});
