//! The users list: search, sorts, keyset pages, deactivated users (both databases).

use app::model::{UserFilter, UserSort};
use app::store::{Store, UserInput};
use app::store_test;
use app::users::service::users_page;

/// (userID, userName, email, created, last seen)
type Person = (&'static str, &'static str, Option<&'static str>, i64, Option<i64>);
/// Last-seen times are kept to the minute (`SEEN_PRECISION_MS`).
const MINUTE: i64 = app::store::SEEN_PRECISION_MS;

const PEOPLE: &[Person] = &[
    ("u0", "Ana Silva", Some("ana.silva@example.com"), 100, Some(900 * MINUTE)),
    ("u1", "Bruno Costa", Some("bruno@shop.test"), 200, None),
    ("u2", "Zoë Anders", None, 200, Some(950 * MINUTE)),
    ("u3", "carla santos", Some("carla@example.com"), 300, Some(500 * MINUTE)),
    ("u4", "Álvaro Silva", Some("alvaro@example.com"), 400, Some(700 * MINUTE)),
];

async fn seed(store: &Store) -> i64 {
    let app = store.create_app("A", "h", 1).await.unwrap().id;
    let other = store.create_app("B", "h2", 1).await.unwrap().id;
    for (id, name, email, created, _) in PEOPLE {
        store
            .upsert_user(app, &id.parse().unwrap(), &UserInput { user_name: Some(name), email: *email }, *created)
            .await
            .unwrap();
    }
    // Same name in another app: never listed for A.
    store
        .upsert_user(other, &"x".parse().unwrap(), &UserInput { user_name: Some("Ana Elsewhere"), email: None }, 1)
        .await
        .unwrap();
    let events: Vec<_> = PEOPLE
        .iter()
        .filter_map(|(id, _, _, _, seen)| {
            seen.map(|at| app::store::EventInput {
                event_type: "x".into(),
                user_external_id: Some(id.parse().unwrap()),
                occurred_at: at,
                ..Default::default()
            })
        })
        .collect();
    store.insert_events(app, &events, 1_000).await.unwrap();
    app
}

fn filter(search: &str, sort: UserSort, include_deactivated: bool) -> UserFilter {
    UserFilter { search: search.into(), sort, include_deactivated, ..Default::default() }
}

/// All userIDs of the list, page by page (`size` per page). Fails, rather
/// than hangs, when the cursor repeats or the pages never end.
async fn walk(store: &Store, app: i64, filter: &UserFilter, size: i64) -> Vec<String> {
    const MAX_PAGES: usize = 1_000;
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = users_page(store, app, filter, cursor.as_deref(), size).await.unwrap();
        assert!(page.users.len() as i64 <= size);
        ids.extend(page.users.iter().map(|u| u.external_id.clone()));
        match page.next_cursor {
            Some(next) if cursor.as_ref() == Some(&next) => panic!("the cursor {next} repeats"),
            Some(next) => cursor = Some(next),
            None => return ids,
        }
    }
    panic!("no last page after {MAX_PAGES} pages");
}

store_test!(sorts_page_through_every_user_once, |store: Store| async move {
    let app = seed(&store).await;
    let by = |sort| filter("", sort, false);
    assert_eq!(walk(&store, app, &by(UserSort::Created), 2).await, ["u4", "u3", "u2", "u1", "u0"]);
    assert_eq!(walk(&store, app, &by(UserSort::LastActivity), 2).await, ["u2", "u0", "u4", "u3", "u1"]);
    // Folded: "alvaro", "ana silva", "bruno", "carla", "zoe".
    assert_eq!(walk(&store, app, &by(UserSort::Name), 2).await, ["u4", "u0", "u1", "u3", "u2"]);
    let page = users_page(&store, app, &by(UserSort::Name), None, 50).await.unwrap();
    assert_eq!((page.total, page.next_cursor), (5, None));
});

store_test!(search_matches_word_prefixes_of_id_name_and_email, |store: Store| async move {
    let app = seed(&store).await;
    let ids = |search: &'static str| {
        let store = store.clone();
        async move { walk(&store, app, &filter(search, UserSort::Created, false), 50).await }
    };
    assert_eq!(ids("silva").await, ["u4", "u0"]);
    assert_eq!(ids("SIL").await, ["u4", "u0"], "prefix, any case");
    assert_eq!(ids("an").await, ["u2", "u0"], "Ana and Anders; not Elsewhere's app");
    assert_eq!(ids("ana silva").await, ["u0"], "every word must match");
    assert_eq!(ids("shop").await, ["u1"], "email domain words");
    assert_eq!(ids("carla@example.com").await, ["u3"], "whole email");
    assert_eq!(ids("u3").await, ["u3"], "userID");
    assert_eq!(ids("zoë").await, ["u2"]);
    assert_eq!(ids("zoe").await, ["u2"], "accents folded");
    assert!(ids("nobody").await.is_empty());
    let page = users_page(&store, app, &filter("silva", UserSort::Name, false), None, 1).await.unwrap();
    assert_eq!((page.total, page.users.len(), page.next_cursor.is_some()), (2, 1, true));
});

store_test!(deactivated_users_are_hidden_unless_asked_for, |store: Store| async move {
    let app = seed(&store).await;
    let ana = store.user_by_external_id(app, "u0").await.unwrap().unwrap();
    store.set_user_active(app, ana.id, false, 2_000).await.unwrap();
    let hidden = users_page(&store, app, &filter("", UserSort::Created, false), None, 50).await.unwrap();
    assert_eq!(hidden.total, 4);
    assert!(hidden.users.iter().all(|u| u.external_id != "u0"));
    let shown = users_page(&store, app, &filter("ana", UserSort::Created, true), None, 50).await.unwrap();
    assert_eq!(shown.total, 1);
    assert!(shown.users.iter().any(|u| u.external_id == "u0" && !u.active));
});

store_test!(bad_cursors_and_searches_are_clear_errors, |store: Store| async move {
    let app = seed(&store).await;
    let by_name = filter("", UserSort::Name, false);
    for bad in ["garbage", "created~1~2", "name~x~notanumber"] {
        assert!(users_page(&store, app, &by_name, Some(bad), 2).await.is_err(), "{bad}");
    }
    let long = "x".repeat(201);
    assert!(users_page(&store, app, &filter(&long, UserSort::Name, false), None, 2).await.is_err());
    // Names with the cursor's separator still page correctly.
    store
        .upsert_user(app, &"t1".parse().unwrap(), &UserInput { user_name: Some("a~b~c"), email: None }, 5)
        .await
        .unwrap();
    assert_eq!(walk(&store, app, &by_name, 1).await.len(), 6);
});

store_test!(bulk_inserted_users_are_listed_and_searchable, |store: Store| async move {
    let app = store.create_app("Bulk", "hb", 1).await.unwrap().id;
    // More than the 2000 index entries under which a word drives the query,
    // so both query plans (driven by matches, scan in list order) run.
    let users: Vec<app::store::BulkUser> = (0..2101)
        .map(|i| app::store::BulkUser {
            external_id: format!("b{i}"),
            user_name: Some(format!("Person {i}")),
            email: (i % 2 == 0).then(|| format!("p{i}@bulk.test")),
            created_at: i,
            last_seen_at: None,
        })
        .collect();
    store.bulk_insert_users(app, &users).await.unwrap();
    let all = users_page(&store, app, &filter("", UserSort::Created, false), None, 10).await.unwrap();
    assert_eq!((all.total, all.users[0].external_id.as_str()), (2101, "b2100"));
    let found = users_page(&store, app, &filter("p1202@bulk.test", UserSort::Name, false), None, 10).await.unwrap();
    assert_eq!(found.users.iter().map(|u| u.external_id.as_str()).collect::<Vec<_>>(), ["b1202"]);
    // A broad word (scan in list order) and a broad + a narrow one (driven).
    let broad = users_page(&store, app, &filter("person", UserSort::Created, false), None, 3).await.unwrap();
    let ids: Vec<_> = broad.users.iter().map(|u| u.external_id.as_str()).collect();
    assert_eq!((broad.total, broad.total_is_more, ids), (1000, true, vec!["b2100", "b2099", "b2098"]), "bounded");
    let both = users_page(&store, app, &filter("person 2100", UserSort::Created, false), None, 3).await.unwrap();
    assert_eq!((both.total, both.users[0].external_id.as_str()), (1, "b2100"));
    let emails = users_page(&store, app, &filter("bulk person", UserSort::Created, false), None, 3).await.unwrap();
    assert_eq!((emails.total, emails.total_is_more), (1000, true));
    // Counts stop at their bound, and say so.
    let everyone =
        store.users_page(app, &filter("", UserSort::Created, false), Default::default(), None, 1).await.unwrap();
    assert_eq!((everyone.total, everyone.total_is_lower_bound), (2101, false));
    let some = store
        .users_page(app, &filter("person 1", UserSort::Created, false), Default::default(), None, 1)
        .await
        .unwrap();
    assert_eq!((some.total, some.total_is_lower_bound), (1000, true), "1,111 match");
});

store_test!(accents_and_case_are_folded_in_search_and_name_order, |store: Store| async move {
    let app = store.create_app("Accents", "ha", 1).await.unwrap().id;
    for (id, name) in [("b", "Bruno"), ("n", "Álvaro Núñez"), ("a", "Alice"), ("z", "Zoë"), ("o", "Ørjan")] {
        store
            .upsert_user(app, &id.parse().unwrap(), &UserInput { user_name: Some(name), email: None }, 1)
            .await
            .unwrap();
    }
    let ids = |search: &'static str, sort| {
        let store = store.clone();
        async move { walk(&store, app, &filter(search, sort, false), 2).await }
    };
    for search in ["alvaro", "ÁLVARO", "Álv", "nunez", "NÚÑEZ", "alvaro nunez"] {
        assert_eq!(ids(search, UserSort::Name).await, ["n"], "{search}");
        assert_eq!(ids(search, UserSort::LastActivity).await, ["n"], "{search}");
    }
    assert_eq!(ids("zoe", UserSort::Created).await, ["z"]);
    assert_eq!(ids("", UserSort::Name).await, ["a", "n", "b", "z", "o"], "Álvaro between Alice and Bruno");
    // Only keys are folded: names are shown as given.
    let page = users_page(&store, app, &filter("alvaro", UserSort::Name, false), None, 5).await.unwrap();
    assert_eq!(page.users[0].user_name.as_deref(), Some("Álvaro Núñez"));
    // A rename re-indexes: the old name's words find nothing.
    store
        .upsert_user(app, &"n".parse().unwrap(), &UserInput { user_name: Some("Ñandú"), email: None }, 2)
        .await
        .unwrap();
    assert!(ids("alvaro", UserSort::Name).await.is_empty());
    assert_eq!(ids("nandu", UserSort::Name).await, ["n"]);
    assert_eq!(ids("", UserSort::Name).await, ["a", "b", "n", "z", "o"]);
});
