//! The statements that find one user's rows by the user alone (the export
//! of its events, the live replay after `Last-Event-ID`, every statement of
//! an erasure) search an index on both databases, never read a whole table
//! or index: since migration 0020 the events ones share
//! `events_by_user_occurred` with the profile's reads and must name what
//! its key starts with (PostgreSQL: the app), and PostgreSQL cannot use an
//! index for an `OR` between two subqueries.

use std::collections::HashMap;

use app::store::{EventInput, Store, UserInput};
use app::store_test;
use app::time::now_ms;

/// Lines of a plan that read a whole table or index instead of searching
/// it: SQLite's `SCAN …`; PostgreSQL's `Seq Scan`, and an index scan whose
/// condition does not start with the index's first column (`leading`, by
/// index name), or that has none.
fn whole_reads<'p>(plan: &'p str, leading: &HashMap<String, String>) -> Vec<&'p str> {
    let lines: Vec<&str> = plan.lines().collect();
    let mut found = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        let text = line.trim();
        if text.starts_with("SCAN ") || text.contains("Seq Scan") {
            found.push(*line);
            continue;
        }
        let Some(index) = scanned_index(text) else { continue };
        // The node's own lines, up to the next node.
        let condition = lines[n + 1..]
            .iter()
            .take_while(|l| !l.contains("->") && !l.contains("(cost="))
            .find_map(|l| l.trim().strip_prefix("Index Cond:"));
        let searched = match (condition, leading.get(index)) {
            (Some(condition), Some(column)) => {
                condition.trim().trim_start_matches('(').starts_with(&format!("{column} "))
            }
            _ => false,
        };
        if !searched {
            found.push(*line);
        }
    }
    found
}

/// The index a PostgreSQL plan line scans, if it is an index scan.
fn scanned_index(line: &str) -> Option<&str> {
    let rest = line.split_once("Scan using ").or_else(|| line.split_once("Bitmap Index Scan on "))?.1;
    rest.split_whitespace().next()
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
    let leading = store.index_leading_columns().await.unwrap();

    // The checker tells a search from a whole read on this database: by a
    // column no index has, and (PostgreSQL, whose per-user indexes start
    // with the app) by the user alone.
    let by_received = store.plan_of("SELECT id FROM events WHERE received_at = $1", &[1]).await.unwrap();
    assert!(!whole_reads(&by_received, &leading).is_empty(), "not flagged:\n{by_received}");
    let by_user = store.plan_of("SELECT id FROM events WHERE user_id = $1", &[user]).await.unwrap();
    let postgres = store.backend_name() == "postgres";
    assert_eq!(!whole_reads(&by_user, &leading).is_empty(), postgres, "by user alone:\n{by_user}");

    let plans = store.per_user_plans(app, user).await.unwrap();
    assert_eq!(plans.len(), 19);
    for (name, plan) in &plans {
        assert!(!plan.is_empty(), "{name}: no plan");
        assert!(whole_reads(plan, &leading).is_empty(), "{name} reads a whole table or index:\n{plan}");
    }
    // The export streams in the index's order: nothing sorted first.
    let export = &plans.iter().find(|(name, _)| *name == "export of events").unwrap().1;
    assert!(sorts(export).is_empty(), "the export sorts:\n{export}");
});

#[test]
fn whole_reads_are_told_from_searches() {
    let none = HashMap::new();
    let sqlite = "SEARCH events USING INDEX events_by_user_occurred (user_id=? AND app_id=?)\nSCAN d";
    assert_eq!(whole_reads(sqlite, &none), ["SCAN d"]);
    let leading = HashMap::from([("ev_user".to_string(), "app_id".to_string())]);
    let postgres =
        "Append  (cost=1..2 rows=1 width=8)\n  ->  Seq Scan on events_p1 events_1  (cost=1..2 rows=1 width=8)\n\
                    \x20 ->  Index Scan using ev_user on events_p2 events_2  (cost=1..2 rows=1 width=8)\n\
                    \x20       Index Cond: ((app_id = $0) AND (user_id = '1'::bigint))\n\
                    \x20 ->  Index Only Scan using ev_user on events_p3 events_3  (cost=1..2 rows=1 width=8)\n\
                    \x20       Index Cond: (user_id = '1'::bigint)\n\
                    \x20 ->  Index Scan using ev_user on events_p4 events_4  (cost=1..2 rows=1 width=8)";
    let flagged = whole_reads(postgres, &leading);
    assert_eq!(flagged.len(), 3, "{flagged:?}");
    assert!(flagged[0].contains("Seq Scan") && flagged[1].contains("events_p3") && flagged[2].contains("events_p4"));
}

#[test]
fn sorts_are_told_from_merges() {
    let merge = "Merge Append  (cost=8.80..40.94 rows=4 width=160)\n  Sort Key: events.occurred_at, events.id";
    assert!(sorts(merge).is_empty());
    let sort = "Limit  (cost=1..2 rows=1 width=8)\n  ->  Sort  (cost=1..2 rows=1 width=8)\n        Sort Key: e.id";
    assert_eq!(sorts(sort), ["Sort  (cost=1..2 rows=1 width=8)"]);
    assert_eq!(sorts("SEARCH e USING INDEX x\nUSE TEMP B-TREE FOR ORDER BY"), ["USE TEMP B-TREE FOR ORDER BY"]);
}
