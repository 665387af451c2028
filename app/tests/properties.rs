//! User properties on both databases: merge semantics (absent names keep
//! their value, `None` removes), types kept through the store, the
//! per-user limit at its edge (refused whole, nothing written), the
//! history newest first and paged, batches all-or-nothing, erasure, and
//! another app's users never touched.

use app::model::properties::{PropertySet, PropertyValue, BY_API, MAX_PROPERTIES};
use app::store::{Store, StoreError};
use app::store_test;
use app::test_fixtures::{new_app, new_user};

fn set(name: &str, value: PropertyValue) -> PropertySet {
    PropertySet { name: name.into(), value: Some(value) }
}

fn remove(name: &str) -> PropertySet {
    PropertySet { name: name.into(), value: None }
}

fn text(s: &str) -> PropertyValue {
    PropertyValue::String(s.into())
}

async fn apply(store: &Store, app: i64, user: i64, changes: &[PropertySet], now: i64) -> usize {
    let mut tx = store.begin_write().await.unwrap();
    let made = tx.set_properties(app, user, changes, BY_API, now).await.unwrap();
    tx.commit().await.unwrap();
    made.len()
}

store_test!(changes_merge_into_the_stored_properties_with_their_types, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let ana = new_user(&store, app, "ana").await;
    let first = [
        set("plan", text("free")),
        set("seats", PropertyValue::Number(3.5)),
        set("trial", PropertyValue::Boolean(true)),
        set("signup", PropertyValue::Date(1_767_323_045_000)),
    ];
    assert_eq!(apply(&store, app, ana, &first, 1_000).await, 4);
    // Absent names keep their value; an unchanged value is not a change.
    let second = [set("plan", text("pro")), set("seats", PropertyValue::Number(3.5)), remove("trial"), remove("nope")];
    assert_eq!(apply(&store, app, ana, &second, 2_000).await, 2);
    let stored = store.properties_of(ana).await.unwrap();
    let names: Vec<(&str, &PropertyValue)> = stored.iter().map(|p| (p.name.as_str(), &p.value)).collect();
    assert_eq!(
        names,
        vec![
            ("plan", &text("pro")),
            ("seats", &PropertyValue::Number(3.5)),
            ("signup", &PropertyValue::Date(1_767_323_045_000))
        ],
        "sorted by name, typed, trial removed"
    );
    assert_eq!(stored.iter().find(|p| p.name == "plan").unwrap().updated_at, 2_000);
});

store_test!(the_history_is_newest_first_and_paged, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let ana = new_user(&store, app, "ana").await;
    for (n, plan) in ["free", "pro", "team"].iter().enumerate() {
        apply(&store, app, ana, &[set("plan", text(plan))], 1_000 * (n as i64 + 1)).await;
    }
    apply(&store, app, ana, &[remove("plan")], 4_000).await;
    let page = store.property_history(ana, None, 3).await.unwrap();
    let seen: Vec<(Option<PropertyValue>, Option<PropertyValue>, i64)> =
        page.iter().map(|c| (c.old.clone(), c.new.clone(), c.at)).collect();
    assert_eq!(
        seen,
        vec![
            (Some(text("team")), None, 4_000),
            (Some(text("pro")), Some(text("team")), 3_000),
            (Some(text("free")), Some(text("pro")), 2_000)
        ]
    );
    assert!(page.iter().all(|c| c.name == "plan" && c.by == BY_API));
    let rest = store.property_history(ana, Some(page[2].id), 3).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!((rest[0].old.clone(), rest[0].new.clone()), (None, Some(text("free"))));
});

store_test!(the_limit_refuses_the_whole_change_at_its_edge, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let ana = new_user(&store, app, "ana").await;
    let full: Vec<PropertySet> =
        (0..MAX_PROPERTIES).map(|n| set(&format!("p{n}"), PropertyValue::Number(n as f64))).collect();
    assert_eq!(apply(&store, app, ana, &full, 1_000).await, MAX_PROPERTIES);
    // One more is refused, with the change beside it; a swap is fine.
    let mut tx = store.begin_write().await.unwrap();
    let refused = tx.set_properties(app, ana, &[set("p0", text("x")), set("extra", text("y"))], BY_API, 2_000).await;
    assert!(matches!(refused, Err(StoreError::Invalid { .. })), "{refused:?}");
    drop(tx);
    let stored = store.properties_of(ana).await.unwrap();
    assert_eq!(stored.len(), MAX_PROPERTIES);
    assert_eq!(stored.iter().find(|p| p.name == "p0").unwrap().value, PropertyValue::Number(0.0), "nothing written");
    assert_eq!(apply(&store, app, ana, &[remove("p0"), set("extra", text("y"))], 3_000).await, 2);
    assert_eq!(store.properties_of(ana).await.unwrap().len(), MAX_PROPERTIES);
});

store_test!(a_batch_creates_users_and_is_all_or_nothing, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let other = new_app(&store, "Other").await;
    let theirs = new_user(&store, other, "ana").await;
    apply(&store, other, theirs, &[set("plan", text("gold"))], 500).await;
    let batch = vec![
        ("ana".parse().unwrap(), vec![set("plan", text("pro"))]),
        ("bob".parse().unwrap(), vec![set("plan", text("free"))]),
    ];
    let done = store.set_properties_of_many(app, &batch, BY_API, 1_000).await.unwrap();
    let ana = store.user_by_external_id(app, "ana").await.unwrap().unwrap().id;
    let bob = store.user_by_external_id(app, "bob").await.unwrap().unwrap().id;
    assert_eq!(done, [(ana, 1), (bob, 1)]);
    let too_many: Vec<PropertySet> =
        (0..=MAX_PROPERTIES).map(|n| set(&format!("p{n}"), PropertyValue::Boolean(true))).collect();
    let refused = vec![("ana".parse().unwrap(), vec![set("plan", text("team"))]), ("cat".parse().unwrap(), too_many)];
    let error = store.set_properties_of_many(app, &refused, BY_API, 2_000).await.unwrap_err();
    assert!(matches!(&error, StoreError::Invalid { field, .. } if field == "[1].properties"), "{error:?}");
    assert_eq!(store.properties_of(ana).await.unwrap()[0].value, text("pro"), "the batch was refused whole");
    assert!(store.user_by_external_id(app, "cat").await.unwrap().is_none(), "no half-written user");
    assert_eq!(store.properties_of(theirs).await.unwrap()[0].value, text("gold"), "another app's user untouched");
});

store_test!(deleting_a_user_erases_properties_and_history, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let ana = new_user(&store, app, "ana").await;
    apply(&store, app, ana, &[set("plan", text("pro"))], 1_000).await;
    apply(&store, app, ana, &[set("plan", text("team"))], 2_000).await;
    let devices = store.device_ids_of_user(ana).await.unwrap();
    let before = store.rows_referencing(ana, &devices).await.unwrap();
    for table in ["user_properties", "property_changes"] {
        assert!(before.iter().any(|l| l.table == table), "{table} holds the user's rows before: {before:?}");
    }
    let mut tx = store.begin_write().await.unwrap();
    assert!(tx.delete_user(app, ana).await.unwrap().is_some());
    tx.commit().await.unwrap();
    assert_eq!(store.rows_referencing(ana, &devices).await.unwrap(), vec![], "no row left pointing at the user");
    assert!(store.property_history(ana, None, 10).await.unwrap().is_empty());

    // A change arriving for the deleted user is refused and writes nothing
    // (a foreign key on SQLite, the write's lock on PostgreSQL).
    let mut tx = store.begin_write().await.unwrap();
    let refused = tx.set_properties(app, ana, &[set("plan", text("late"))], BY_API, 3_000).await;
    assert!(refused.is_err(), "{refused:?}");
    drop(tx);
    assert_eq!(store.rows_referencing(ana, &devices).await.unwrap(), vec![], "no row written for the deleted user");
});

store_test!(an_admins_edit_is_checked_audited_and_kept_in_the_history, |store: Store| async move {
    use app::error::AppError;
    use app::properties::service::{history, remove, set};
    let app = new_app(&store, "Shop").await;
    let other = new_app(&store, "Other").await;
    let ana = new_user(&store, app, "ana").await;
    let admin = app::test_fixtures::admin();
    let list = set(&store, app, ana, "plan", "string", "pro", &admin).await.unwrap();
    assert_eq!(list.iter().map(|p| (p.name.as_str(), &p.value)).collect::<Vec<_>>(), [("plan", &text("pro"))]);
    let list = set(&store, app, ana, " seats ", "number", "1,200", &admin).await.unwrap();
    assert_eq!(list[1].value, PropertyValue::Number(1200.0), "the name trimmed, the number read with grouping");
    for (name, kind, value, field) in
        [("$x", "string", "a", "name"), ("plan", "number", "ten", "value"), ("plan", "object", "{}", "value")]
    {
        let refused = set(&store, app, ana, name, kind, value, &admin).await;
        assert!(matches!(&refused, Err(AppError::Invalid { field: Some(f), .. }) if f == field), "{refused:?}");
    }
    let elsewhere = set(&store, other, ana, "plan", "string", "x", &admin).await;
    assert!(matches!(elsewhere, Err(AppError::NotFound(_))), "another app's admin cannot reach the user");
    remove(&store, app, ana, "plan", &admin).await.unwrap();
    let changes = history(&store, app, ana, None).await.unwrap();
    let seen: Vec<(&str, bool, &str)> =
        changes.iter().map(|c| (c.name.as_str(), c.new.is_some(), c.by.as_str())).collect();
    assert_eq!(
        seen,
        [("plan", false, admin.email.as_str()), ("seats", true, &admin.email), ("plan", true, &admin.email)]
    );
    let audit = store.recent_audit(10).await.unwrap();
    let actions: Vec<(&str, &str)> =
        audit.iter().filter(|e| e.user_id == Some(ana)).map(|e| (e.action.as_str(), e.detail.as_str())).collect();
    assert_eq!(actions, [("removed property", "plan"), ("set property", "seats"), ("set property", "plan")]);
    assert!(matches!(history(&store, other, ana, None).await, Err(AppError::NotFound(_))));
});

store_test!(property_changes_show_once_each_in_the_unified_timeline, |store: Store| async move {
    use app::model::activity::TimelineKind;
    let app = new_app(&store, "Shop").await;
    let ana = new_user(&store, app, "ana").await;
    apply(&store, app, ana, &[set("plan", text("free"))], 1_000).await;
    let admin = app::test_fixtures::admin();
    app::properties::service::set(&store, app, ana, "plan", "string", "pro", &admin).await.unwrap();
    let timeline = store.user_timeline(app, ana, None, 10).await.unwrap();
    let properties: Vec<(&str, &str, Option<&str>)> = timeline
        .iter()
        .filter(|e| e.kind == TimelineKind::Property)
        .map(|e| (e.title.as_str(), e.detail.as_str(), e.actor.as_deref()))
        .collect();
    assert_eq!(
        properties,
        [
            ("Property plan", "“free” → “pro”", Some(admin.email.as_str())),
            ("Property plan", "(none) → “free”", Some("api"))
        ]
    );
    assert!(
        timeline.iter().all(|e| e.kind != TimelineKind::Audit || !e.title.contains("property")),
        "the admin's change shows once, as a property change: {timeline:?}"
    );
    // Paged: the page after the newest entry starts with the older change.
    let first = app::store::timeline_position(&timeline[0]);
    let rest = store.user_timeline(app, ana, Some(first), 10).await.unwrap();
    assert_eq!(rest[0].detail, "(none) → “free”");
});

store_test!(concurrent_batches_over_the_same_users_all_land, multi_thread, |store: Store| async move {
    // Batches naming the same users in opposite orders, at once: none
    // deadlocks or is lost, and every change has its history row.
    let app = new_app(&store, "Shop").await;
    let users: Vec<String> = (0..300).map(|i| format!("u-{i}")).collect();
    let batch = |round: usize, reversed: bool| {
        let mut entries: Vec<(app::ids::ExternalId, Vec<PropertySet>)> = users
            .iter()
            .map(|u| (u.parse().unwrap(), vec![set(&format!("r{round}"), PropertyValue::Number(round as f64))]))
            .collect();
        if reversed {
            entries.reverse();
        }
        entries
    };
    let mut tasks = tokio::task::JoinSet::new();
    for round in 0..6 {
        let (store, entries) = (store.clone(), batch(round, round % 2 == 1));
        tasks.spawn(async move { store.set_properties_of_many(app, &entries, BY_API, 1_000).await });
    }
    while let Some(done) = tasks.join_next().await {
        assert_eq!(done.unwrap().unwrap().len(), users.len());
    }
    for u in ["u-0", "u-150", "u-299"] {
        let id = store.user_by_external_id(app, u).await.unwrap().unwrap().id;
        assert_eq!(store.properties_of(id).await.unwrap().len(), 6, "{u} holds one property per batch");
        assert_eq!(store.property_history(id, None, 100).await.unwrap().len(), 6, "{u}'s history");
    }
    // The same property changed by every batch at once: each change records
    // the value it replaced, so the history is one unbroken chain.
    let mut tasks = tokio::task::JoinSet::new();
    for round in 0..6 {
        let mut entries: Vec<(app::ids::ExternalId, Vec<PropertySet>)> = users
            .iter()
            .map(|u| (u.parse().unwrap(), vec![set("shared", PropertyValue::Number(round as f64))]))
            .collect();
        if round % 2 == 1 {
            entries.reverse();
        }
        let store = store.clone();
        tasks.spawn(async move { store.set_properties_of_many(app, &entries, BY_API, 2_000).await });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap().unwrap();
    }
    for u in ["u-0", "u-299"] {
        let id = store.user_by_external_id(app, u).await.unwrap().unwrap().id;
        let mut chain: Vec<_> = store.property_history(id, None, 100).await.unwrap();
        chain.retain(|c| c.name == "shared");
        chain.reverse();
        assert_eq!(chain[0].old, None, "{u}");
        for pair in chain.windows(2) {
            assert_eq!(pair[1].old, pair[0].new, "{u}: each change replaced the one before it");
        }
    }
});
