//! Merging users, on SQLite and PostgreSQL: everything of the merged user
//! moves to the kept one and nothing names the merged user afterwards; its
//! userID is an alias (events, devices, users and imports naming it land
//! on the kept user; chains resolve in one step); conflicting properties
//! keep the kept user's value unless picked; the undo gives both users
//! back exactly, with what the app sent under the merged userID since;
//! another app's user is refused; a merge racing with ingest loses nothing.

use app::ids::ExternalId;
use app::merging::service::merge_by_user_ids;
use app::model::properties::{PropertySet, PropertyValue};
use app::store::{write_tx, DeviceInput, EventInput, NewMessage, Store, StoreError, UserInput, UNDO_WINDOW_MS};
use app::store_test;
use app::test_fixtures::{new_app, new_user, new_user_with_device};

fn id(text: &str) -> ExternalId {
    text.parse().unwrap()
}

fn event(user: &str, at: i64) -> EventInput {
    EventInput {
        client_id: None,
        event_type: "screen.view".into(),
        user_external_id: Some(id(user)),
        device_external_id: None,
        session_id: None,
        occurred_at: at,
        data: None,
    }
}

fn text(name: &str, value: &str) -> PropertySet {
    PropertySet { name: name.into(), value: Some(PropertyValue::String(value.into())) }
}

const HOUR: i64 = 3_600_000;

/// A user with a bit of everything: a device (with a location), events
/// over three hours, a message, a note, two properties, two segments, a
/// Push Mail address.
async fn full_user(store: &Store, app: i64, name: &str, segments: &[i64], now: i64) -> i64 {
    let user = new_user_with_device(store, app, name).await;
    let events: Vec<EventInput> = (0..6).map(|i| event(name, now - 3 * HOUR + i * HOUR / 2)).collect();
    store.insert_events(app, &events, now).await.unwrap();
    let message = NewMessage {
        title: "Hello",
        body: "Welcome",
        source: "api",
        sender: "api",
        envelope_sender: None,
        created_at: now,
        attachments: &[],
    };
    store.insert_message(app, user, &message).await.unwrap();
    let changes = [text("plan", &format!("{name}-plan")), text(&format!("{name}-only"), "yes")];
    store.upsert_user_with_properties(app, &id(name), &UserInput::default(), &changes, "api", now).await.unwrap();
    write_tx!(store, |tx| {
        tx.add_note(app, user, (1, "admin@example.com"), &format!("about {name}"), now).await?;
        tx.join_segments(app, user, segments, "admin@example.com", now).await?;
        Ok(())
    })
    .unwrap();
    store.set_push_token(app, user, Some(&format!("{name}-token")), now).await.unwrap();
    user
}

store_test!(a_merge_moves_everything_and_the_old_userid_follows, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let now = 100 * HOUR;
    let both = store.create_segment(app, "Both", "", now).await.unwrap();
    let only_old = store.create_segment(app, "Old only", "", now).await.unwrap();
    let old = full_user(&store, app, "anon-1", &[both, only_old], now).await;
    let kept = full_user(&store, app, "acct-1", &[both], now).await;
    let (old_before, kept_before) = (store.user_snapshot(old).await.unwrap(), store.user_snapshot(kept).await.unwrap());

    let merge = store.merge_users(app, (old, kept), &[], "admin@example.com", now).await.unwrap();
    assert_eq!((merge.moved.devices, merge.moved.events, merge.moved.messages), (1, 6, 1));
    assert_eq!((merge.moved.notes, merge.moved.segments, merge.moved.properties), (1, 2, 2));
    assert!(store.rows_referencing(old, &[]).await.unwrap().is_empty(), "nothing names the merged user");
    assert!(store.user_by_external_id(app, "anon-1").await.unwrap().is_none());
    assert_eq!(store.count_events(app).await.unwrap(), 12);
    let histogram: i64 = {
        let snapshot = store.user_snapshot(kept).await.unwrap();
        let counts = snapshot.iter().find(|l| l.starts_with("hour counts:")).unwrap().clone();
        counts
            .trim_start_matches("hour counts: [")
            .trim_end_matches(']')
            .split(", ")
            .map(|n| n.parse::<f64>().unwrap() as i64)
            .sum()
    };
    assert_eq!(histogram, 12, "the kept user's hour counts add up to the union of the events");
    let segments: Vec<String> = store.segments_of_user(app, kept).await.unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(segments, ["Both", "Old only"]);
    let properties: Vec<(String, String)> = store
        .properties_of(kept)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.name.clone(), format!("{:?}", p.value)))
        .collect();
    assert!(properties.contains(&("plan".into(), format!("{:?}", PropertyValue::String("acct-1-plan".into())))));
    assert!(properties.iter().any(|(name, _)| name == "anon-1-only"), "values the kept user lacks move");
    assert_eq!(
        store.push_token_of(app, kept).await.unwrap().as_deref(),
        Some("acct-1-token"),
        "the kept address stays"
    );

    // The old userID names the kept user from now on.
    store.insert_events(app, &[event("anon-1", now + 1)], now + 1).await.unwrap();
    let put =
        store.upsert_user(app, &id("anon-1"), &UserInput { user_name: Some("Ana"), email: None }, now).await.unwrap();
    assert_eq!((put.id, put.external_id.as_str(), put.user_name.as_deref()), (kept, "acct-1", Some("Ana")));
    let device = DeviceInput { user_external_id: Some(id("anon-1")), ..Default::default() };
    store.upsert_device(app, &id("new-phone"), &device, now).await.unwrap();
    assert_eq!(store.device_ids_of_user(kept).await.unwrap().len(), 3);
    assert_eq!(store.user_by_external_id_or_alias(app, "anon-1").await.unwrap().map(|u| u.id), Some(kept));
    assert!(store.user_by_external_id(app, "anon-1").await.unwrap().is_none(), "no user was created for it");

    // Undo: both users as they were, and on the restored user what the app
    // sent since under its userID (the event and the new phone); the kept
    // user keeps the name it was given then (a change of its own row).
    assert_ne!(store.user_snapshot(kept).await.unwrap(), kept_before);
    let restored = store.undo_merge(app, merge.id, "admin@example.com", now + 2).await.unwrap();
    assert_eq!(restored, old);
    let (old_after, kept_after) = (store.user_snapshot(old).await.unwrap(), store.user_snapshot(kept).await.unwrap());
    let changed = |after: &[String], before: &[String]| -> Vec<String> {
        after.iter().zip(before).filter(|(after, before)| after != before).map(|(after, _)| after.clone()).collect()
    };
    for line in changed(&old_after, &old_before) {
        let arrived = ["user:", "devices:", "events:", "hours:", "hour counts:"];
        assert!(arrived.iter().any(|p| line.starts_with(p)), "unexpected change on the restored user: {line}");
    }
    assert_eq!(store.count_user_events(old).await.unwrap(), 7, "the event sent to anon-1 since is anon-1's");
    assert_eq!(store.device_ids_of_user(old).await.unwrap().len(), 2, "so is the phone registered to anon-1");
    for line in changed(&kept_after, &kept_before) {
        let renamed = ["user:", "tokens:", "search:"];
        assert!(renamed.iter().any(|p| line.starts_with(p)), "unexpected change on the kept user: {line}");
    }
    assert_eq!(store.count_user_events(kept).await.unwrap(), 6);
    let again = store.undo_merge(app, merge.id, "admin@example.com", now + 3).await.unwrap_err();
    assert!(matches!(&again, StoreError::Invalid { message, .. } if message.contains("undone already")), "{again:?}");
});

store_test!(chains_resolve_in_one_step_and_undo_in_order, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let (a, b, c) =
        (new_user(&store, app, "a").await, new_user(&store, app, "b").await, new_user(&store, app, "c").await);
    let first = store.merge_users(app, (a, b), &[], "api", 10).await.unwrap();
    let second = store.merge_users(app, (b, c), &[], "api", 20).await.unwrap();
    store.insert_events(app, &[event("a", 30)], 30).await.unwrap();
    assert_eq!(store.user_by_external_id_or_alias(app, "a").await.unwrap().map(|u| u.id), Some(c));
    let (merge, now_at) = store.merged_into(app, a).await.unwrap().unwrap();
    assert_eq!((merge.id, now_at), (first.id, c), "a's old page leads to c");
    let refused = store.undo_merge(app, first.id, "api", 40).await.unwrap_err();
    assert!(matches!(&refused, StoreError::Invalid { message, .. } if message.contains("undo that merge first")));
    store.undo_merge(app, second.id, "api", 40).await.unwrap();
    assert_eq!(store.user_by_external_id_or_alias(app, "a").await.unwrap().map(|u| u.id), Some(b), "a names b again");
    let events = |user| store.count_user_events(user);
    assert_eq!((events(b).await.unwrap(), events(c).await.unwrap()), (1, 0), "the event sent to a is with b again");
    store.undo_merge(app, first.id, "api", 50).await.unwrap();
    assert_eq!(store.user_by_external_id_or_alias(app, "a").await.unwrap().map(|u| u.id), Some(a));
    assert_eq!((events(a).await.unwrap(), events(b).await.unwrap()), (1, 0), "and with a after both undos");
});

store_test!(conflicting_properties_keep_the_kept_users_value_unless_picked, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let set = |user: &'static str, plan: &'static str, city: &'static str| {
        let store = store.clone();
        async move {
            let changes = [text("plan", plan), text("city", city)];
            store
                .upsert_user_with_properties(app, &id(user), &UserInput::default(), &changes, "api", 1)
                .await
                .unwrap()
                .0
                .id
        }
    };
    let old = set("old", "pro", "Oslo").await;
    let kept = set("kept", "free", "Lima").await;
    store.merge_users(app, (old, kept), &["city".to_string()], "api", 2).await.unwrap();
    let values: Vec<String> =
        store.properties_of(kept).await.unwrap().into_iter().map(|p| format!("{}={:?}", p.name, p.value)).collect();
    assert_eq!(values, ["city=String(\"Oslo\")", "plan=String(\"free\")"]);
});

store_test!(merges_by_userid_are_idempotent_and_scoped_to_the_app, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let other = new_app(&store, "Other").await;
    new_user(&store, app, "x").await;
    new_user(&store, app, "y").await;
    let foreign = new_user(&store, other, "z").await;
    let first = merge_by_user_ids(&store, app, (&id("x"), &id("y")), &[], "api", 5).await.unwrap();
    assert!(first.created);
    let again = merge_by_user_ids(&store, app, (&id("x"), &id("y")), &[], "api", 6).await.unwrap();
    assert_eq!((again.created, again.merge.id, again.into.as_str()), (false, first.merge.id, "y"));
    let missing = merge_by_user_ids(&store, app, (&id("y"), &id("z")), &[], "api", 7).await.unwrap_err();
    assert_eq!(missing.status_code(), 404, "another app's userID is unknown here");
    let y = store.user_by_external_id(app, "y").await.unwrap().unwrap().id;
    let refused = store.merge_users(app, (y, foreign), &[], "api", 8).await.unwrap_err();
    assert!(matches!(refused, StoreError::NotFound("user")), "{refused:?}");
    assert!(store.user_by_id(other, foreign).await.unwrap().is_some(), "the other app's user is untouched");
    let itself = merge_by_user_ids(&store, app, (&id("y"), &id("y")), &[], "api", 9).await.unwrap_err();
    assert_eq!(itself.status_code(), 422);
    let late = store.undo_merge(app, first.merge.id, "api", 5 + UNDO_WINDOW_MS + 1).await.unwrap_err();
    assert!(matches!(&late, StoreError::Invalid { message, .. } if message.contains("7 days")), "{late:?}");
});

store_test!(a_merge_racing_with_ingest_for_both_users_loses_nothing, multi_thread, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let old = new_user(&store, app, "old").await;
    let kept = new_user(&store, app, "kept").await;
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..4i64 {
        let store = store.clone();
        writers.spawn(async move {
            for batch in 0..15i64 {
                let events: Vec<EventInput> = (0..20)
                    .map(|i| event(if i % 2 == 0 { "old" } else { "kept" }, 1_000 + writer * 1000 + batch * 20 + i))
                    .collect();
                store.insert_events(app, &events, 5_000).await.expect("every batch is stored");
            }
        });
    }
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    store.merge_users(app, (old, kept), &[], "api", 5_000).await.unwrap();
    while let Some(done) = writers.join_next().await {
        done.unwrap();
    }
    assert_eq!(store.count_events(app).await.unwrap(), 4 * 15 * 20);
    assert!(store.rows_referencing(old, &[]).await.unwrap().is_empty(), "no event names the merged user");
    let snapshot = store.user_snapshot(kept).await.unwrap();
    let counts = snapshot.iter().find(|l| l.starts_with("hour counts:")).unwrap();
    let total: f64 = counts
        .trim_start_matches("hour counts: [")
        .trim_end_matches(']')
        .split(", ")
        .map(|n| n.parse::<f64>().unwrap())
        .sum();
    assert_eq!(total as i64, 4 * 15 * 20, "the kept user's hour counts hold every event");
});

store_test!(the_timeline_shows_the_merge_and_deleting_the_kept_user_takes_its_aliases, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let (a, b) = (new_user(&store, app, "a").await, new_user(&store, app, "b").await);
    store.merge_users(app, (a, b), &[], "admin@example.com", 10).await.unwrap();
    store.insert_events(app, &[event("a", 11)], 11).await.unwrap();
    let arrivals = || async { store.row_counts().await.unwrap().into_iter().find(|(t, _)| *t == "alias_arrivals") };
    assert_eq!(arrivals().await, Some(("alias_arrivals", 1)), "the event sent to a is noted for an undo");
    let timeline = store.user_timeline(app, b, None, 10).await.unwrap();
    assert!(
        timeline.iter().any(|e| e.title == app::store::MERGED && e.detail == "a into b"),
        "the kept user's timeline shows the merge: {timeline:?}"
    );
    write_tx!(store, |tx| tx.delete_user(app, b).await).unwrap().expect("b deleted");
    assert!(store.rows_referencing(b, &[]).await.unwrap().is_empty());
    assert!(store.user_by_external_id_or_alias(app, "a").await.unwrap().is_none(), "a names nobody now");
    assert_eq!(arrivals().await, Some(("alias_arrivals", 0)), "nor is anything noted under a");
    assert!(store.merged_into(app, a).await.unwrap().is_none(), "the merge record went with the kept user");
});
