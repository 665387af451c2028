//! The statements that find one user's rows by the user alone (the export
//! of its events, the live replay after `Last-Event-ID`, every statement of
//! an erasure) are answered from an index on both databases, never by a
//! pass over a whole table: since migration 0020 the events ones share
//! `events_by_user_occurred` with the profile's reads and must name what
//! its key starts with, and PostgreSQL cannot use an index for an `OR`
//! between two subqueries.

use app::store::{EventInput, Store, UserInput};
use app::store_test;
use app::time::now_ms;

/// Lines of a plan that read a whole table (or a whole index) instead of
/// searching it: SQLite's `SCAN …`, PostgreSQL's `Seq Scan`.
fn full_scans(plan: &str) -> Vec<&str> {
    plan.lines().map(str::trim).filter(|line| line.starts_with("SCAN ") || line.contains("Seq Scan")).collect()
}

/// Lines of a plan that sort rows: SQLite's temporary B-tree, a
/// PostgreSQL `Sort` node (not a merge's "Sort Key").
fn sorts(plan: &str) -> Vec<&str> {
    plan.lines()
        .map(|line| line.trim().trim_start_matches("->").trim())
        .filter(|line| line.contains("TEMP B-TREE") || (line.contains("Sort") && line.contains("(cost=")))
        .collect()
}

store_test!(per_user_statements_search_an_index, |store: Store| async move {
    let app = store.create_app("Plans", "hp", 1).await.unwrap().id;
    let input = UserInput { user_name: Some("Ana"), email: None };
    let user = store.upsert_user(app, &"ana".parse().unwrap(), &input, 1).await.unwrap().id;
    let events: Vec<EventInput> = (0..20)
        .map(|n| EventInput {
            event_type: "open".into(),
            user_external_id: Some("ana".parse().unwrap()),
            occurred_at: n,
            ..Default::default()
        })
        .collect();
    store.insert_events(app, &events, now_ms()).await.unwrap();

    let plans = store.per_user_plans(app, user).await.unwrap();
    assert_eq!(plans.len(), 12);
    for (name, plan) in &plans {
        assert!(!plan.is_empty(), "{name}: no plan");
        assert!(full_scans(plan).is_empty(), "{name} reads a whole table:\n{plan}");
    }
    // The export streams in the index's order: nothing sorted first.
    let export = &plans.iter().find(|(name, _)| *name == "export of events").unwrap().1;
    assert!(sorts(export).is_empty(), "the export sorts:\n{export}");
});

#[test]
fn full_scans_are_told_from_searches() {
    let sqlite = "SEARCH events USING INDEX events_by_user_occurred (user_id=? AND app_id=?)\nSCAN d";
    assert_eq!(full_scans(sqlite), ["SCAN d"]);
    let postgres = "Append\n  ->  Seq Scan on events_p202611 events_1\n  ->  Index Scan using x on events_default";
    assert_eq!(full_scans(postgres), ["->  Seq Scan on events_p202611 events_1"]);
}

#[test]
fn sorts_are_told_from_merges() {
    let merge = "Merge Append  (cost=8.80..40.94 rows=4 width=160)\n  Sort Key: events.occurred_at, events.id";
    assert!(sorts(merge).is_empty());
    let sort = "Limit  (cost=1..2 rows=1 width=8)\n  ->  Sort  (cost=1..2 rows=1 width=8)\n        Sort Key: e.id";
    assert_eq!(sorts(sort), ["Sort  (cost=1..2 rows=1 width=8)"]);
    assert_eq!(sorts("SEARCH e USING INDEX x\nUSE TEMP B-TREE FOR ORDER BY"), ["USE TEMP B-TREE FOR ORDER BY"]);
}
