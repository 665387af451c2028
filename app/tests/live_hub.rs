//! The live channel's fan-out (`LiveHub`), on SQLite and PostgreSQL: a
//! stream receives its user's committed events, and the fan-out reads back
//! only the events of users a stream is open for (none when nobody
//! watches). The SSE route over it is tested against the real server in
//! `server/tests/live.rs`.

use std::time::Duration;

use app::live::{LiveHub, LiveUpdate, Subscription};
use app::store::{EventInput, Store, StoredIds};
use app::store_test;
use app::test_fixtures::new_user;
use app::time::now_ms;

/// Stores one event of each `(user, n)` (client id `<user>-<n>`, at `n`);
/// what was stored.
async fn store_events(store: &Store, app_id: i64, events: &[(&str, i64)]) -> StoredIds {
    let batch: Vec<EventInput> = events
        .iter()
        .map(|(user, n)| EventInput {
            client_id: Some(format!("{user}-{n}").parse().unwrap()),
            event_type: "open".into(),
            user_external_id: Some(user.parse().unwrap()),
            occurred_at: *n,
            ..Default::default()
        })
        .collect();
    store.insert_events(app_id, &batch, now_ms()).await.expect("insert events").stored
}

/// [`store_events`], then tells the hub, as the ingest route does.
async fn ingest(store: &Store, hub: &LiveHub, app_id: i64, events: &[(&str, i64)]) {
    hub.committed(&store_events(store, app_id, events).await);
}

/// The users of the next batch of events the subscription receives.
async fn next_batch(subscription: &mut Subscription) -> Vec<Option<i64>> {
    let wait = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match subscription.updates.recv().await.expect("the live channel") {
                LiveUpdate::Activity(batch) => return batch.iter().map(|e| e.user_id).collect::<Vec<_>>(),
                _ => continue,
            }
        }
    });
    wait.await.expect("a batch of events within 10 s")
}

store_test!(streams_get_their_users_events_and_unwatched_users_are_not_read, |store: Store| async move {
    let app = store.create_app("live", "hash-live", 1_000).await.expect("create app").id;
    let (a, b, c) =
        (new_user(&store, app, "a").await, new_user(&store, app, "b").await, new_user(&store, app, "c").await);
    let hub = LiveHub::start(store.clone()).await.expect("live hub");

    let mut watching_a = hub.subscribe(a);
    ingest(&store, &hub, app, &[("a", 1), ("b", 1), ("a", 2)]).await;
    assert_eq!(next_batch(&mut watching_a).await, [Some(a), Some(a)], "only the watched user's events are read");

    let watching_b = hub.subscribe(b);
    let second_on_a = hub.subscribe(a);
    assert_eq!(hub.watched_users(), 2);
    ingest(&store, &hub, app, &[("b", 2), ("c", 1)]).await;
    assert_eq!(next_batch(&mut watching_a).await, [Some(b)], "one broadcast carries every watched user's events");

    drop(watching_b);
    drop(second_on_a);
    assert_eq!(hub.watched_users(), 1, "a is still watched by its first stream");
    drop(watching_a);
    assert_eq!(hub.watched_users(), 0);

    // Nobody watches a's events now: they are not read or broadcast. The
    // next batch a new stream of c receives is c's, not a's.
    ingest(&store, &hub, app, &[("a", 3)]).await;
    let mut watching_c = hub.subscribe(c);
    ingest(&store, &hub, app, &[("c", 2), ("a", 4)]).await;
    assert_eq!(next_batch(&mut watching_c).await, [Some(c)]);
});

store_test!(events_read_back_by_id_with_and_without_a_user_filter, |store: Store| async move {
    let app = store.create_app("by-id", "hash-by-id", 1_000).await.expect("create app").id;
    let (a, b) = (new_user(&store, app, "a").await, new_user(&store, app, "b").await);
    let stored = store_events(&store, app, &[("a", 1), ("b", 2), ("a", 3)]).await;
    let users_of =
        |events: Vec<app::activity::model::ActivityEvent>| events.iter().map(|e| e.user_id).collect::<Vec<_>>();
    // SQLite hands out a range of ids, PostgreSQL a list: both, each way.
    // (A batch is stored in client-id order: a-1, a-3, b-2.)
    assert_eq!(users_of(store.stored_events(&stored, None).await.unwrap()), [Some(a), Some(a), Some(b)]);
    assert_eq!(users_of(store.stored_events(&stored, Some(&[b])).await.unwrap()), [Some(b)]);
    let ids: Vec<i64> = store.stored_events(&stored, None).await.unwrap().iter().map(|e| e.id).collect();
    assert_eq!(users_of(store.events_by_ids(&ids, None).await.unwrap()), [Some(a), Some(a), Some(b)]);
    assert_eq!(users_of(store.events_by_ids(&ids, Some(&[a])).await.unwrap()), [Some(a), Some(a)]);
    assert!(store.events_by_ids(&ids, Some(&[])).await.unwrap().is_empty());
});

store_test!(a_replay_reads_short_and_long_gaps_alike, |store: Store| async move {
    // The replay after Last-Event-ID reads a gap of up to 5,000 ids (every
    // user's) by id, a longer one from the user's entries: 6,000 events of
    // another user between a's make both ways run, and paging cross over.
    let app = store.create_app("replay", "hash-replay", 1_000).await.expect("create app").id;
    let a = new_user(&store, app, "a").await;
    new_user(&store, app, "b").await;
    let mut expected = Vec::new();
    for round in 0..6 {
        let others: Vec<(&str, i64)> = (0..1_000).map(|n| ("b", round * 1_000 + n)).collect();
        store_events(&store, app, &others).await;
        let own: Vec<(&str, i64)> = (0..5).map(|n| ("a", round * 10 + n)).collect();
        let stored = store_events(&store, app, &own).await;
        expected.extend(store.stored_events(&stored, None).await.expect("read back").iter().map(|e| e.id));
    }
    expected.sort();
    let replay = |after: i64, limit: i64| {
        let store = store.clone();
        async move {
            let events = store.user_events_after(app, a, after, limit).await.expect("replay");
            assert!(events.iter().all(|e| e.user_id == Some(a) && e.app_id == app));
            events.iter().map(|e| e.id).collect::<Vec<i64>>()
        }
    };
    let after = |id: i64| expected.iter().copied().filter(|&e| e > id).collect::<Vec<_>>();

    assert_eq!(replay(0, 1_000).await, expected, "a long gap (6,030 ids)");
    let recent = expected[expected.len() - 8];
    assert_eq!(replay(recent, 1_000).await, after(recent), "a short gap (~1,000 ids)");
    assert_eq!(replay(*expected.last().unwrap(), 1_000).await, Vec::<i64>::new(), "nothing missed");
    // Two at a time from the start, as the stream pages: long gaps first,
    // short ones at the end.
    let (mut cursor, mut paged): (i64, Vec<i64>) = (0, Vec::new());
    loop {
        let page = replay(cursor, 2).await;
        paged.extend(&page);
        match page.last() {
            Some(&last) if page.len() == 2 => cursor = last,
            _ => break,
        }
    }
    assert_eq!(paged, expected);
});
