//! Segments: the store and the service the server functions and the ingest
//! API call, each test on SQLite and on PostgreSQL (`store_test!`); a join
//! racing the user's deletion.

use app::error::AppError;
use app::model::AuditEntry;
use app::segments::model::Segment;
use app::segments::service;
use app::store::Store;
use app::store_test;
use app::test_fixtures::{admin, new_app, new_user};

async fn segment(store: &Store, app_id: i64, name: &str) -> Segment {
    service::create(store, app_id, name, &admin()).await.expect("create segment")
}

/// The names `text` finds, in order.
async fn found(store: &Store, app_id: i64, user_id: i64, text: &str) -> Vec<String> {
    service::search(store, app_id, user_id, text).await.unwrap().matches.into_iter().map(|m| m.name).collect()
}

/// The app's audit rows, oldest first.
async fn audit(store: &Store, app_id: i64) -> Vec<AuditEntry> {
    let mut rows: Vec<AuditEntry> =
        store.recent_audit(1_000).await.unwrap().into_iter().filter(|e| e.app_id == Some(app_id)).collect();
    rows.reverse();
    rows
}

fn is_invalid(err: &AppError, expected: &str) -> bool {
    matches!(err, AppError::Invalid { field: Some(field), .. } if field == expected)
}

store_test!(search_puts_prefixes_first_and_ignores_case, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let other = new_app(&store, "B").await;
    let user = new_user(&store, app, "u1").await;
    for name in ["Super VIP", "VIP Gold", "Not a match", "vipers", "A vip list", "VIP", "ViPeR", "Ünits", "Lisbon"] {
        segment(&store, app, name).await;
    }
    segment(&store, other, "VIP elsewhere").await;
    let vip = ["VIP", "VIP Gold", "ViPeR", "vipers", "A vip list", "Super VIP"];
    assert_eq!(found(&store, app, user, "vip").await, vip, "prefix matches by name, then the others by name");
    assert_eq!(found(&store, app, user, "  VIP ").await, vip, "case and surrounding spaces do not matter");
    assert_eq!(found(&store, app, user, "üNI").await, ["Ünits"], "case folds beyond ASCII");
    assert_eq!(found(&store, app, user, "sbo").await, ["Lisbon"]);
    assert!(found(&store, app, user, "zzz").await.is_empty());
    assert_eq!(found(&store, other, user, "vip").await, ["VIP elsewhere"], "only the app's own segments");
    let all = found(&store, app, user, "").await;
    assert_eq!(all.len(), 9, "an empty text lists the app's segments: {all:?}");
    assert_eq!(all[0], "A vip list");
});

store_test!(search_matches_like_wildcards_literally, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let user = new_user(&store, app, "u1").await;
    for name in ["50% off", "500 club", "a_b", "axb", "back\\slash", "backslash"] {
        segment(&store, app, name).await;
    }
    assert_eq!(found(&store, app, user, "50%").await, ["50% off"]);
    assert_eq!(found(&store, app, user, "%").await, ["50% off"]);
    assert_eq!(found(&store, app, user, "0%").await, ["50% off"], "in the contains part too");
    assert_eq!(found(&store, app, user, "a_b").await, ["a_b"]);
    assert_eq!(found(&store, app, user, "_").await, ["a_b"]);
    assert_eq!(found(&store, app, user, "k\\s").await, ["back\\slash"]);
});

store_test!(search_shows_at_most_twenty_prefixes_first, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let user = new_user(&store, app, "u1").await;
    for i in 0..15 {
        segment(&store, app, &format!("Team {i:02}")).await;
    }
    for i in 0..10 {
        segment(&store, app, &format!("Red team {i:02}")).await;
    }
    let names = found(&store, app, user, "team").await;
    let mut expected: Vec<String> = (0..15).map(|i| format!("Team {i:02}")).collect();
    expected.extend((0..5).map(|i| format!("Red team {i:02}")));
    assert_eq!(names, expected);
    let names = found(&store, app, user, "eam").await;
    assert_eq!(names.len(), 20, "contains-only matches are capped too");
    assert_eq!(names[0], "Red team 00");
    assert_eq!(found(&store, app, user, "").await.len(), 20);
});

store_test!(search_marks_members_and_exact_names, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let user = new_user(&store, app, "u1").await;
    let other_user = new_user(&store, app, "u2").await;
    let gold = segment(&store, app, "VIP Gold").await;
    segment(&store, app, "VIP").await;
    service::add(&store, app, user, &[gold.id], &admin()).await.unwrap();

    let result = service::search(&store, app, user, "vip").await.unwrap();
    let members: Vec<(&str, bool)> = result.matches.iter().map(|m| (m.name.as_str(), m.member)).collect();
    assert_eq!(members, [("VIP", false), ("VIP Gold", true)]);
    assert_eq!(result.text, "vip", "the text is echoed as sent");
    let result = service::search(&store, app, other_user, "vip").await.unwrap();
    assert!(result.matches.iter().all(|m| !m.member), "membership is the searched user's");

    for (text, exact) in [("vip", true), (" VIP GOLD ", true), ("vi", false), ("gold", false), ("", false)] {
        assert_eq!(service::search(&store, app, user, text).await.unwrap().exact, exact, "{text:?}");
    }
    let long = "x".repeat(201);
    assert!(is_invalid(&service::search(&store, app, user, &long).await.unwrap_err(), "text"));
});

store_test!(concurrent_creates_of_one_name_end_with_one_segment, multi_thread, |store: Store| async move {
    let app = new_app(&store, "A").await;
    for round in 0..10 {
        let (first, second) = (format!("VIP {round}"), format!("vip {round} "));
        let (a, b) = {
            let (s1, s2) = (store.clone(), store.clone());
            let a = tokio::spawn(async move { service::create_as(&s1, app, &first, "one").await });
            let b = tokio::spawn(async move { service::create_as(&s2, app, &second, "two").await });
            (a.await.unwrap().expect("first create"), b.await.unwrap().expect("second create"))
        };
        assert_eq!(a.0, b.0, "round {round}: both callers get the one segment");
        assert!(a.1 ^ b.1, "round {round}: exactly one call created it ({a:?}, {b:?})");
        assert_eq!(a.0.name.to_lowercase(), format!("vip {round}"), "trimmed");
    }
    assert_eq!(store.count_segments(app).await.unwrap(), 10);
    let created = audit(&store, app).await.into_iter().filter(|e| e.action == "created segment").count();
    assert_eq!(created, 10, "one audit row per segment created");
});

store_test!(create_returns_the_existing_segment_ignoring_case, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let first = segment(&store, app, "  Beta testers ").await;
    assert_eq!(first.name, "Beta testers");
    let again = segment(&store, app, "BETA TESTERS").await;
    assert_eq!(again, first);
    assert_eq!(store.count_segments(app).await.unwrap(), 1);
    let rows = audit(&store, app).await;
    assert_eq!(rows.len(), 1, "getting the existing one writes no audit row");
    assert_eq!(
        (rows[0].actor.as_str(), rows[0].action.as_str(), rows[0].user_id, rows[0].detail.as_str()),
        ("admin@example.com", "created segment", None, "Beta testers")
    );
});

store_test!(names_are_checked, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let too_long = "x".repeat(65);
    for bad in ["", "   ", too_long.as_str(), "a\tb", "a\u{7}b", "new\nline", "ab\u{202e}c"] {
        let err = service::create(&store, app, bad, &admin()).await.unwrap_err();
        assert!(is_invalid(&err, "name"), "{bad:?}: {err:?}");
    }
    assert_eq!(store.count_segments(app).await.unwrap(), 0, "nothing created");
    assert!(audit(&store, app).await.is_empty());
    let longest = "é".repeat(64);
    assert_eq!(segment(&store, app, &format!(" {longest} ")).await.name, longest, "64 characters are fine");
});

store_test!(add_is_idempotent_and_audited_once, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let user = new_user(&store, app, "u1").await;
    let (beta, vip) = (segment(&store, app, "Beta").await, segment(&store, app, "VIP").await);
    let before = audit(&store, app).await.len();

    assert_eq!(service::add(&store, app, user, &[vip.id], &admin()).await.unwrap(), std::slice::from_ref(&vip));
    assert_eq!(service::add(&store, app, user, &[vip.id, vip.id], &admin()).await.unwrap(), std::slice::from_ref(&vip));
    let rows = audit(&store, app).await;
    assert_eq!(rows.len(), before + 1, "the second add wrote no audit row");
    let row = rows.last().unwrap();
    assert_eq!(
        (row.actor.as_str(), row.action.as_str(), row.user_id, row.detail.as_str()),
        ("admin@example.com", "added to segment", Some(user), "VIP")
    );

    let all = service::add(&store, app, user, &[vip.id, beta.id], &admin()).await.unwrap();
    assert_eq!(all, [beta.clone(), vip.clone()], "all of the user's segments, by name");
    assert_eq!(audit(&store, app).await.len(), before + 2, "only the new membership is audited");
    assert_eq!(service::user_segments(&store, app, user).await.unwrap(), [beta, vip]);
});

store_test!(add_is_all_or_nothing, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let other = new_app(&store, "B").await;
    let user = new_user(&store, app, "u1").await;
    let vip = segment(&store, app, "VIP").await;
    let beta = segment(&store, app, "Beta").await;
    let elsewhere = segment(&store, other, "Elsewhere").await;
    let before = audit(&store, app).await.len();

    for ids in [vec![vip.id, beta.id, elsewhere.id], vec![vip.id, beta.id + 1_000], vec![elsewhere.id]] {
        let err = service::add(&store, app, user, &ids, &admin()).await.unwrap_err();
        assert!(matches!(err, AppError::NotFound(_)), "{ids:?}: {err:?}");
        assert!(service::user_segments(&store, app, user).await.unwrap().is_empty(), "{ids:?}: nothing added");
    }
    assert_eq!(audit(&store, app).await.len(), before, "no audit row for a refused add");

    let err = service::add(&store, app, user, &[], &admin()).await.unwrap_err();
    assert!(is_invalid(&err, "segment_ids"), "{err:?}");
    let too_many: Vec<i64> = (0..101).collect();
    assert!(is_invalid(&service::add(&store, app, user, &too_many, &admin()).await.unwrap_err(), "segment_ids"));
    let stranger = new_user(&store, other, "u1").await;
    let err = service::add(&store, app, stranger, &[vip.id], &admin()).await.unwrap_err();
    assert!(matches!(err, AppError::NotFound(_)), "another app's user: {err:?}");
    assert!(service::user_segments(&store, other, stranger).await.unwrap().is_empty());
});

store_test!(remove_leaves_once_and_is_audited, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let other = new_app(&store, "B").await;
    let user = new_user(&store, app, "u1").await;
    let (beta, vip) = (segment(&store, app, "Beta").await, segment(&store, app, "VIP").await);
    let elsewhere = segment(&store, other, "Elsewhere").await;
    service::add(&store, app, user, &[beta.id, vip.id], &admin()).await.unwrap();

    service::remove(&store, app, user, vip.id, &admin()).await.unwrap();
    assert_eq!(service::user_segments(&store, app, user).await.unwrap(), std::slice::from_ref(&beta));
    let row = audit(&store, app).await.pop().unwrap();
    assert_eq!(
        (row.actor.as_str(), row.action.as_str(), row.user_id, row.detail.as_str()),
        ("admin@example.com", "removed from segment", Some(user), "VIP")
    );
    let before = audit(&store, app).await.len();
    for segment_id in [vip.id, elsewhere.id, vip.id + 1_000] {
        let err = service::remove(&store, app, user, segment_id, &admin()).await.unwrap_err();
        assert!(matches!(err, AppError::NotFound(_)), "{segment_id}: {err:?}");
    }
    let err = service::remove(&store, app, user + 1_000, beta.id, &admin()).await.unwrap_err();
    assert!(matches!(err, AppError::NotFound(_)), "unknown user: {err:?}");
    assert_eq!(audit(&store, app).await.len(), before, "refused removals are not audited");
    assert_eq!(service::user_segments(&store, app, user).await.unwrap(), [beta]);
    assert!(service::search(&store, app, user, "vip").await.unwrap().matches.iter().all(|m| !m.member));
});

store_test!(join_and_leave_by_name, |store: Store| async move {
    let app = new_app(&store, "A").await;
    let user = new_user(&store, app, "u1").await;
    let u1 = "u1".parse().unwrap();
    let joined = service::join_by_name(&store, app, &u1, " VIP Gold ", "api").await.unwrap();
    assert_eq!((joined.segment.name.as_str(), joined.created, joined.added), ("VIP Gold", true, true));
    let again = service::join_by_name(&store, app, &u1, "vip gold", "api").await.unwrap();
    assert_eq!((again.segment.id, again.created, again.added), (joined.segment.id, false, false));
    let actions: Vec<(String, String, Option<i64>)> =
        audit(&store, app).await.into_iter().map(|e| (e.actor, e.action, e.user_id)).collect();
    let expected = [("api", "created segment", None), ("api", "added to segment", Some(user))];
    assert_eq!(actions, expected.map(|(a, b, c)| (a.to_string(), b.to_string(), c)));

    let ghost = "ghost".parse().unwrap();
    let err = service::join_by_name(&store, app, &ghost, "New", "api").await.unwrap_err();
    assert!(matches!(err, AppError::NotFound(_)), "{err:?}");
    assert!(store.segment_by_name(app, "New").await.unwrap().is_none(), "no segment for an unknown user");
    assert!(is_invalid(&service::join_by_name(&store, app, &u1, " ", "api").await.unwrap_err(), "name"));

    assert_eq!(service::leave_by_name(&store, app, &u1, "VIP GOLD", "api").await.unwrap().id, joined.segment.id);
    for (user, name) in [(&u1, "VIP Gold"), (&u1, "Nope"), (&ghost, "VIP Gold")] {
        let err = service::leave_by_name(&store, app, user, name, "api").await.unwrap_err();
        assert!(matches!(err, AppError::NotFound(_)), "{name}: {err:?}");
    }
    assert_eq!(audit(&store, app).await.len(), 3, "one removal audited");
});

store_test!(a_join_racing_the_users_deletion_leaves_no_membership, multi_thread, |store: Store| async move {
    // PostgreSQL's memberships have no foreign keys (migration 0029): the
    // join locks its user first, so a deletion either waits for the join
    // (and deletes the membership) or comes first (and the join answers
    // "not found"). Either way nothing refers to the deleted user.
    let app = new_app(&store, "Shop").await;
    let segment = service::create_as(&store, app, "VIP", "test").await.unwrap().0.id;
    for round in 0..20 {
        let external = format!("racer-{round}");
        let user = new_user(&store, app, &external).await;
        let joiners: Vec<_> = (0..3)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    for _ in 0..5 {
                        match service::add(&store, app, user, &[segment], &admin()).await {
                            Ok(_) => {}
                            Err(AppError::NotFound(_)) => return,
                            Err(other) => panic!("joining {user}: {other:?}"),
                        }
                    }
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(round % 4)).await;
        app::profile::lifecycle::delete(&store, app, user, &external, &admin()).await.unwrap();
        for joiner in joiners {
            joiner.await.unwrap();
        }
        let left = store.rows_referencing(user, &[]).await.unwrap();
        assert!(left.is_empty(), "round {round}: rows left after a delete racing joins: {left:?}");
    }
});
