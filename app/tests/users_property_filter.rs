//! The users list's property filters on both databases: every operator,
//! on strings, numbers, booleans and dates, alone and with a search, a
//! segment and each order, gives exactly what a brute-force filter gives,
//! page by page — whether a selective filter drives the page from its
//! index or a broad one is checked on a walk in list order (partial pages
//! included). Also the count, the property columns, the suggestions, a
//! bad filter's error, and another app's properties never matching.

use std::cmp::Reverse;
use std::collections::HashMap;

use app::error::AppError;
use app::ids::ExternalId;
use app::model::properties::{PropertySet, PropertyValue, BY_API};
use app::model::property_filter::{PropertyFilter, PropertyOp};
use app::model::users::{ColumnValue, UserScope};
use app::model::{UserFilter, UserSort, UserSummary};
use app::store::{Budget, BulkUser, Store};
use app::store_test;
use app::users::service::{column_values, users_page, users_page_within};

const USERS: i64 = 1500;
const PAGE: i64 = 40;
const DAY: i64 = 86_400_000;
const START: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

/// The seed's properties of user number `i`.
fn properties_of(i: i64) -> Vec<(&'static str, PropertyValue)> {
    let mut props = vec![("age", PropertyValue::Number((i % 90) as f64))];
    match i % 50 {
        0 => props.push(("plan", PropertyValue::String("pro".into()))),
        n if n % 7 != 0 => props.push(("plan", PropertyValue::String("free".into()))),
        _ => {}
    }
    if i % 3 == 0 {
        props.push(("vip", PropertyValue::Boolean(i % 6 == 0)));
    }
    props.push(("signup", PropertyValue::Date(START + (i % 30) * DAY + 3_600_000)));
    if i == 7 {
        // Longer than the text index holds, in 4-byte characters.
        props.push(("motto", PropertyValue::String("🦀".repeat(1000))));
    }
    props
}

async fn seed(store: &Store) -> (i64, Vec<UserSummary>) {
    let app = store.create_app("Props", "hp", 1).await.unwrap().id;
    let users: Vec<BulkUser> = (0..USERS)
        .map(|i| BulkUser {
            external_id: format!("u-{i}"),
            user_name: Some(format!("{} Team {i}", ["Ana", "Bruno", "Carla"][(i % 3) as usize])),
            email: None,
            created_at: i * 7919 % USERS,
            last_seen_at: (i % 4 != 0).then_some(i * 31 % 1000),
        })
        .collect();
    store.bulk_insert_users(app, &users).await.unwrap();
    let batch: Vec<(ExternalId, Vec<PropertySet>)> = (0..USERS)
        .map(|i| {
            let sets = properties_of(i)
                .into_iter()
                .map(|(name, value)| PropertySet { name: name.into(), value: Some(value) })
                .collect();
            (ExternalId::parse(format!("u-{i}")).unwrap(), sets)
        })
        .collect();
    for chunk in batch.chunks(500) {
        store.set_properties_of_many(app, chunk, BY_API, 10).await.unwrap();
    }
    let everyone = UserFilter { sort: UserSort::Created, include_deactivated: true, ..Default::default() };
    let all = walk(store, app, &everyone, Budget::default()).await;
    for user in all.iter().filter(|u| number(u) % 11 == 0) {
        store.set_user_active(app, user.id, false, 5).await.unwrap();
    }
    let segment = store.create_segment(app, "Fives", "", 1).await.unwrap();
    let fives: Vec<i64> = all.iter().filter(|u| number(u) % 5 == 0).map(|u| u.id).collect();
    store.add_segment_members(segment, &fives, "test", 1).await.unwrap();
    // Another app whose users hold every value too.
    let other = store.create_app("Other", "ho", 1).await.unwrap().id;
    let elsewhere = vec![(
        ExternalId::parse("u-0").unwrap(),
        vec![PropertySet { name: "plan".into(), value: Some(PropertyValue::String("pro".into())) }],
    )];
    store.set_properties_of_many(other, &elsewhere, BY_API, 10).await.unwrap();
    (app, walk(store, app, &everyone, Budget::default()).await)
}

fn number(user: &UserSummary) -> i64 {
    user.external_id[2..].parse().unwrap()
}

/// Every user of the view, page by page through the service.
async fn walk(store: &Store, app: i64, filter: &UserFilter, budget: Budget) -> Vec<UserSummary> {
    let mut users = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..(4 * USERS / PAGE + 4) {
        let page = users_page_within(store, app, filter, cursor.as_deref(), PAGE, budget).await.unwrap();
        users.extend(page.users);
        match page.next_cursor {
            Some(next) if cursor.as_ref() == Some(&next) => panic!("the cursor {next} repeats"),
            Some(next) => cursor = Some(next),
            None => return users,
        }
    }
    panic!("no last page");
}

fn filter(name: &str, op: PropertyOp, value: &str) -> PropertyFilter {
    PropertyFilter { name: name.into(), op, value: value.into() }
}

/// Whether user `i` meets `f`, written apart from the store's SQL.
fn meets(i: i64, f: &PropertyFilter) -> bool {
    let props: HashMap<&str, PropertyValue> = properties_of(i).into_iter().collect();
    let value = props.get(f.name.as_str());
    let number = |v: &PropertyValue| match v {
        PropertyValue::Number(n) => Some(("number", *n)),
        PropertyValue::Date(ms) => Some(("date", *ms as f64)),
        _ => None,
    };
    let is = |v: &PropertyValue| match v {
        PropertyValue::String(s) => *s == f.value,
        PropertyValue::Number(n) => f.value.parse::<f64>() == Ok(*n),
        PropertyValue::Boolean(b) => f.value == b.to_string(),
        // A day alone is the whole day (UTC).
        PropertyValue::Date(ms) => chrono::DateTime::from_timestamp_millis(*ms)
            .is_some_and(|at| at.format("%Y-%m-%d").to_string() == f.value || at.to_rfc3339() == f.value),
    };
    let bound = || match (f.value.parse::<f64>(), chrono::DateTime::parse_from_rfc3339(&f.value)) {
        (Ok(n), _) => ("number", n, n),
        (_, Ok(at)) => ("date", at.timestamp_millis() as f64, at.timestamp_millis() as f64),
        _ => {
            let day = chrono::NaiveDate::parse_from_str(&f.value, "%Y-%m-%d").unwrap();
            let start = day.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis() as f64;
            ("date", start, start + DAY as f64 - 1.0)
        }
    };
    match f.op {
        PropertyOp::Is => value.is_some_and(is),
        PropertyOp::IsNot => !value.is_some_and(is),
        PropertyOp::Exists => value.is_some(),
        PropertyOp::Missing => value.is_none(),
        PropertyOp::Less => value.and_then(number).is_some_and(|(kind, n)| kind == bound().0 && n < bound().1),
        PropertyOp::Greater => value.and_then(number).is_some_and(|(kind, n)| kind == bound().0 && n > bound().2),
    }
}

fn expected(all: &[UserSummary], f: &UserFilter) -> Vec<i64> {
    let word = f.search.to_lowercase();
    let mut found: Vec<&UserSummary> = all
        .iter()
        .filter(|u| f.include_deactivated || u.active)
        .filter(|u| f.segment.is_none() || number(u) % 5 == 0)
        .filter(|u| {
            word.is_empty()
                || u.user_name.as_deref().unwrap_or("").to_lowercase().split(' ').any(|w| w.starts_with(&word))
        })
        .filter(|u| f.properties.iter().all(|p| meets(number(u), p)))
        .collect();
    match f.sort {
        UserSort::Name => found.sort_by_key(|u| (u.user_name.clone().unwrap_or_default().to_lowercase(), u.id)),
        UserSort::Created => found.sort_by_key(|u| Reverse((u.created_at, u.id))),
        UserSort::LastActivity => found.sort_by_key(|u| Reverse((u.last_seen_at.unwrap_or(0), u.id))),
    }
    found.into_iter().map(|u| u.id).collect()
}

store_test!(every_property_filter_finds_what_brute_force_finds, |store: Store| async move {
    let (app, all) = seed(&store).await;
    assert_eq!(all.len() as i64, USERS);
    use PropertyOp::*;
    let cases: Vec<(Vec<PropertyFilter>, &str, bool)> = vec![
        (vec![filter("plan", Is, "pro")], "", false),
        (vec![filter("plan", IsNot, "free")], "", false),
        (vec![filter("plan", Missing, "")], "", true),
        (vec![filter("vip", Exists, "")], "ana", false),
        (vec![filter("vip", Is, "true")], "", false),
        (vec![filter("age", Greater, "85")], "", true),
        (vec![filter("age", Less, "10"), filter("vip", Is, "false")], "", false),
        (vec![filter("age", Is, "42")], "", false),
        (vec![filter("signup", Is, "2026-01-03")], "", false),
        (vec![filter("signup", Greater, "2026-01-28")], "carla", false),
        (vec![filter("signup", Less, "2026-01-02T00:00:00Z")], "", false),
        (vec![filter("motto", Is, &"🦀".repeat(1000))], "", true),
        (vec![filter("motto", Is, &"🦀".repeat(999))], "", true),
        (vec![filter("plan", Is, "pro"), filter("motto", Missing, "")], "", false),
    ];
    for (properties, search, deactivated) in cases {
        for sort in UserSort::ALL {
            for segment in [None, Some("Fives".to_string())] {
                let f = UserFilter {
                    search: search.into(),
                    sort,
                    include_deactivated: deactivated,
                    segment: segment.clone(),
                    properties: properties.clone(),
                    ..Default::default()
                };
                let want = expected(&all, &f);
                // Every case but the near-miss of a long string finds someone.
                let near_miss = properties[0].value.chars().count() == 999;
                assert!(!near_miss || want.is_empty());
                assert!(segment.is_some() || near_miss || !want.is_empty(), "the case finds users: {f:?}");
                let got: Vec<i64> = walk(&store, app, &f, Budget::default()).await.iter().map(|u| u.id).collect();
                assert_eq!(got, want, "{f:?}");
                // Small budgets: the property never drives, walks stop early.
                let small = Budget { walk: 60, members: 5, ..Budget::default() };
                let got: Vec<i64> = walk(&store, app, &f, small).await.iter().map(|u| u.id).collect();
                assert_eq!(got, want, "within a small budget: {f:?}");
                let page = users_page(&store, app, &f, None, PAGE).await.unwrap();
                if page.total_is_more {
                    assert!(page.total <= want.len() as i64, "{f:?}");
                } else {
                    assert_eq!(page.total, want.len() as i64, "the count of {f:?}");
                }
            }
        }
    }
});

store_test!(a_selective_filter_drives_and_a_broad_one_is_checked, |store: Store| async move {
    let (app, _) = seed(&store).await;
    let explain = |properties: Vec<PropertyFilter>| {
        let store = store.clone();
        async move {
            let f = UserFilter { properties, ..Default::default() };
            store.explain_list(app, &f, UserScope::default(), Budget::default()).await.unwrap()
        }
    };
    assert_eq!(explain(vec![filter("plan", PropertyOp::Is, "pro")]).await, "property plan");
    let narrow = Budget { members: 5, ..Budget::default() };
    let f = UserFilter { properties: vec![filter("plan", PropertyOp::Is, "pro")], ..Default::default() };
    assert_eq!(store.explain_list(app, &f, UserScope::default(), narrow).await.unwrap(), "scan");
    assert_eq!(explain(vec![filter("plan", PropertyOp::Missing, "")]).await, "scan");
    // The count of a selective filter is exact.
    let page = users_page(&store, app, &f, None, PAGE).await.unwrap();
    assert_eq!((page.total, page.total_is_more), (27, false), "pro users (every 50th), active");
});

store_test!(columns_suggestions_and_bad_filters, |store: Store| async move {
    let (app, all) = seed(&store).await;
    let first: Vec<UserSummary> = all.iter().filter(|u| number(u) < 4).cloned().collect();
    let columns = ["plan".to_string(), "nope".to_string(), "vip".to_string()];
    let values = column_values(&store, &first, &columns).await.unwrap();
    assert_eq!(ColumnValue::of(&PropertyValue::Number(1234.5)), ColumnValue::Words("1,234.5".into()));
    assert_eq!(ColumnValue::of(&PropertyValue::Boolean(true)), ColumnValue::Words("Yes".into()));
    for (user, row) in first.iter().zip(&values) {
        let props: HashMap<&str, PropertyValue> = properties_of(number(user)).into_iter().collect();
        let shown = |name: &str| props.get(name).map(ColumnValue::of);
        assert_eq!(row, &vec![shown("plan"), None, shown("vip")], "{}", user.external_id);
    }
    use app::properties::service::suggestions;
    assert_eq!(suggestions(&store, app, "", None).await.unwrap(), ["age", "motto", "plan", "signup", "vip"]);
    assert_eq!(suggestions(&store, app, "s", None).await.unwrap(), ["signup"]);
    assert_eq!(suggestions(&store, app, "plan", Some("")).await.unwrap(), ["free", "pro"]);
    assert_eq!(suggestions(&store, app, "plan", Some("p")).await.unwrap(), ["pro"]);
    assert_eq!(suggestions(&store, app, "motto", Some("🦀")).await.unwrap(), ["🦀".repeat(200)]);
    let bad = UserFilter { properties: vec![filter("age", PropertyOp::Greater, "old")], ..Default::default() };
    match users_page(&store, app, &bad, None, PAGE).await {
        Err(AppError::Invalid { message, .. }) => assert!(message.contains("numbers and dates"), "{message}"),
        other => panic!("a bad filter is refused: {other:?}"),
    }
});
