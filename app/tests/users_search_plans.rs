//! Every search strategy of the users list (driven, sorted postings, scan)
//! gives exactly the users a brute-force search finds, in list order, page
//! by page, on both databases. Pages whose budget ran out (partial) hold
//! only matches, in order, and say so; the pages after them go on from
//! where they stopped, so the walk still finds every match exactly once.

use std::cmp::Reverse;

use app::model::users::UserScope;
use app::model::{UserFilter, UserSort, UserSummary, UsersPage};
use app::store::{sort_key_of, Budget, BulkUser, Position, Store};
use app::store_test;
use app::users::service::{users_page, users_page_within};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

const USERS: i64 = 4200;
const PAGE: i64 = 97;

/// Seeds users whose words make each strategy run (counts for 4200 users).
/// New users: "pe" covers pedro, pereira and person (thousands of entries,
/// 3 tokens), "p" thousands of email words. Old users ("old-1", "Zed Old
/// Team 1") come last in both name and created order, past the first walk
/// of a word that covers thousands of tokens. Most are in a "team".
async fn seed(store: &Store) -> (i64, Vec<UserSummary>) {
    let app = store.create_app("Plans", "hp", 1).await.unwrap().id;
    let first = ["Pedro", "Person", "Ána"];
    let last = ["Silva", "Pereira"];
    let half = USERS / 2;
    let team = |i: i64| if i % 5 == 0 { "Crew" } else { "Team" };
    let users: Vec<BulkUser> = (0..USERS)
        .map(|i| {
            let old = i < half;
            BulkUser {
                external_id: if old { format!("old-{i}") } else { format!("new-{i}") },
                user_name: match (old, i % 13) {
                    (true, _) => Some(format!("Zed Old {} {i}", team(i))),
                    (false, 0) => None,
                    (false, _) => {
                        Some(format!("{} {} {} {i}", first[(i % 3) as usize], last[(i % 2) as usize], team(i)))
                    }
                },
                email: match i % 3 {
                    0 => None,
                    1 => Some(format!("p{i}@shop.test")),
                    _ => Some(format!("p{i}@bulk.test")),
                },
                // Shuffled within each half, with ties (two users per instant).
                created_at: if old { 0 } else { half } + (i % half * 7919 % half) / 2,
                last_seen_at: (i % 4 != 0).then_some(i * 31 % 1000),
            }
        })
        .collect();
    store.bulk_insert_users(app, &users).await.unwrap();
    let everyone =
        UserFilter { search: String::new(), sort: UserSort::Created, include_deactivated: true, ..Default::default() };
    let (all, _) = walk(store, app, &everyone).await;
    for user in all.iter().filter(|u| number(u) % 11 == 0) {
        store.set_user_active(app, user.id, false, 5).await.unwrap();
    }
    // Segments: "Sevens" (600 members), "Odd" (2,100), and one of another app.
    for (name, member) in [("Sevens", (|i| i % 7 == 0) as fn(i64) -> bool), ("Odd", |i| i % 2 == 1)] {
        let segment = store.create_segment(app, name, "", 1).await.unwrap();
        let ids: Vec<i64> = all.iter().filter(|u| member(number(u))).map(|u| u.id).collect();
        store.add_segment_members(segment, &ids, "test", 1).await.unwrap();
    }
    let other = store.create_app("Other", "ho", 1).await.unwrap().id;
    store.create_segment(other, "Elsewhere", "", 1).await.unwrap();
    (app, walk(store, app, &everyone).await.0)
}

/// The seed's number of a user ("new-42" → 42).
fn number(user: &UserSummary) -> i64 {
    user.external_id[4..].parse().unwrap()
}

/// Whether `user` is in the seed's segment `name`.
fn in_segment(name: &str, user: &UserSummary) -> bool {
    match name {
        "Sevens" => number(user) % 7 == 0,
        "Odd" => number(user) % 2 == 1,
        _ => false,
    }
}

fn filter(search: &str, sort: UserSort, include_deactivated: bool, segment: Option<&str>) -> UserFilter {
    UserFilter {
        search: search.into(),
        sort,
        include_deactivated,
        segment: segment.map(String::from),
        ..Default::default()
    }
}

/// Every user of the list, page by page through the service. Fails,
/// rather than hangs, when the cursor repeats or the pages never end.
/// Also returns how many pages were partial.
async fn walk(store: &Store, app: i64, filter: &UserFilter) -> (Vec<UserSummary>, usize) {
    let max_pages = (2 * USERS / PAGE + 4) as usize;
    let (mut users, mut partial) = (Vec::new(), 0);
    let mut cursor: Option<String> = None;
    for _ in 0..max_pages {
        let page = users_page(store, app, filter, cursor.as_deref(), PAGE).await.unwrap();
        assert!(page.users.len() as i64 <= PAGE);
        if page.partial {
            partial += 1;
            assert!(page.next_cursor.is_some(), "a partial page goes on: {filter:?}");
        } else if page.next_cursor.is_some() {
            assert_eq!(page.users.len() as i64, PAGE, "only a full or partial page has a next one");
        }
        users.extend(page.users);
        match page.next_cursor {
            Some(next) if cursor.as_ref() == Some(&next) => panic!("the cursor {next} repeats"),
            Some(next) => cursor = Some(next),
            None => return (users, partial),
        }
    }
    panic!("no last page after {max_pages} pages of {PAGE}");
}

/// The same walk straight on the store, within `budget`.
async fn walk_within(
    store: &Store,
    app: i64,
    filter: &UserFilter,
    scope: UserScope,
    budget: Budget,
) -> (Vec<UserSummary>, usize) {
    let max_pages = 4 * USERS as usize;
    let (mut users, mut partial) = (Vec::new(), 0);
    let mut after: Option<Position> = None;
    for _ in 0..max_pages {
        let page = store.users_page_within(app, filter, scope, after.clone(), PAGE, budget).await.unwrap();
        let next = match (&page.stopped_at, page.users.last()) {
            (Some(at), _) => Some(at.clone()),
            (None, Some(last)) if page.users.len() as i64 == PAGE => Some((sort_key_of(filter.sort, last), last.id)),
            _ => None,
        };
        partial += usize::from(page.stopped_at.is_some());
        users.extend(page.users);
        match next {
            Some(next) if after.as_ref() == Some(&next) => panic!("no progress past {next:?}"),
            Some(next) => after = Some(next),
            None => return (users, partial),
        }
    }
    panic!("no last page after {max_pages} pages");
}

/// Lower case without accents, written apart from the store's own folding.
fn fold(text: &str) -> String {
    text.to_lowercase().nfkd().filter(|c| !is_combining_mark(*c)).collect()
}

/// The brute-force answer: every word a prefix of some word or
/// space-separated chunk of the user's userID, name or email; in list order.
fn expected(all: &[UserSummary], filter: &UserFilter) -> Vec<i64> {
    let words: Vec<String> = filter.search.split_whitespace().map(fold).collect();
    let mut found: Vec<&UserSummary> = all
        .iter()
        .filter(|u| filter.include_deactivated || u.active)
        .filter(|u| filter.segment.as_deref().is_none_or(|name| in_segment(name, u)))
        .filter(|u| {
            let text = fold(&format!(
                "{} {} {}",
                u.external_id,
                u.user_name.as_deref().unwrap_or(""),
                u.email.as_deref().unwrap_or("")
            ));
            let chunks = text.split_whitespace();
            let tokens: Vec<&str> = chunks.clone().chain(text.split(|c: char| !c.is_alphanumeric())).collect();
            words.iter().all(|w| tokens.iter().any(|t| t.starts_with(w.as_str())))
        })
        .collect();
    let name = |u: &UserSummary| fold(u.user_name.as_deref().unwrap_or(&u.external_id));
    match filter.sort {
        UserSort::Name => found.sort_by_key(|u| (name(u), u.id)),
        UserSort::Created => found.sort_by_key(|u| Reverse((u.created_at, u.id))),
        UserSort::LastActivity => found.sort_by_key(|u| Reverse((u.last_seen_at.unwrap_or(0), u.id))),
    }
    found.into_iter().map(|u| u.id).collect()
}

/// The scope of the members of `segment`.
fn members_of(segment: i64) -> UserScope {
    UserScope { segment: Some(segment), active_since: None }
}

fn ids(users: &[UserSummary]) -> Vec<i64> {
    users.iter().map(|u| u.id).collect()
}

store_test!(every_strategy_finds_what_brute_force_finds, |store: Store| async move {
    let (app, all) = seed(&store).await;
    assert_eq!(all.len() as i64, USERS);
    use UserSort::*;
    // (search, order, strategy, how many walks (of 2) have a partial page)
    let cases: &[(&str, UserSort, &str, usize)] = &[
        ("", Name, "everyone", 0),
        ("pe", Name, "postings pedro,pereira,person", 0),
        ("pe", Created, "postings pedro,pereira,person", 0),
        ("pe", LastActivity, "scan", 0),
        ("zed p", Name, "postings zed & p", 0),
        ("team zed", Name, "postings zed & team", 0),
        ("pe team", Created, "postings pedro,pereira,person & team", 0),
        ("team pe zed", Name, "postings zed & pedro,pereira,person & team", 0),
        ("team pe", LastActivity, "scan", 0),
        ("p zed", Created, "postings zed & p", 0),
        // A word of many tokens beside one that merges: their ranges intersected.
        ("team ne", Name, "intersect", 0),
        ("team ne", Created, "intersect", 0),
        ("p", Name, "postings p", 0),
        ("p", Created, "postings p", 0),
        ("p", LastActivity, "scan", 0),
        // Old users come after 2,100 new ones: past one walk's budget, so
        // their range is read, or (by activity) the walk goes on.
        ("old-", Name, "range", 0),
        ("old-", Created, "range", 0),
        ("old- z", Created, "range", 0),
        ("old-", LastActivity, "scan", 0),
        ("zed 1", Name, "postings zed & 1", 0),
        ("ana", Name, "driven", 0),
        ("ÁNA", Created, "driven", 0),
        ("p1", Created, "driven", 0), // "p12" and "p12@shop.test": one user, counted once
        ("ana silva", Created, "driven", 0),
        ("silva 1", LastActivity, "driven", 0),
        ("nobody", Name, "driven", 0),
    ];
    let mut wrong_plans = Vec::new();
    for (search, sort, strategy, partial_walks) in cases {
        let mut partial = 0;
        for include_deactivated in [false, true] {
            let filter = filter(search, *sort, include_deactivated, None);
            let plan = store.explain_search(app, &filter, None, Budget::default()).await.unwrap();
            if plan != *strategy {
                wrong_plans.push(format!("{filter:?}: {plan}, not {strategy}"));
                continue;
            }
            let want = expected(&all, &filter);
            let (got, partial_pages) = walk(&store, app, &filter).await;
            partial += usize::from(partial_pages > 0);
            assert_eq!(got.len(), want.len(), "how many for {filter:?}");
            assert!(ids(&got) == want, "order for {filter:?}");
            // The first page is complete: the first PAGE matches in order
            // (or all of them), never a partial answer.
            let first = users_page(&store, app, &filter, None, PAGE).await.unwrap();
            assert!(!first.partial, "a complete first page for {filter:?}");
            assert_eq!(ids(&first.users), want[..want.len().min(PAGE as usize)], "the first page of {filter:?}");
            let bound = if search.is_empty() { UsersPage::COUNT_LIMIT } else { UsersPage::SEARCH_COUNT_LIMIT };
            assert_eq!(
                (first.total, first.total_is_more),
                ((want.len() as i64).min(bound), want.len() as i64 > bound),
                "total for {filter:?}"
            );
        }
        assert_eq!(partial, *partial_walks, "walks with a partial page for {search:?} by {sort:?}");
    }
    assert!(wrong_plans.is_empty(), "plans:\n{}", wrong_plans.join("\n"));
});

store_test!(small_budgets_answer_partial_pages_that_are_never_wrong, |store: Store| async move {
    let (app, all) = seed(&store).await;
    use UserSort::*;
    let budget = Budget { walk: 150, postings: 300, count: 400, members: 10_000, range: 100 };
    let (mut partial_walks, mut lower_bounds, mut filled_in) = (0, 0, 0);
    let cases: &[(&str, UserSort)] = &[
        ("pe", Name),
        ("pe", LastActivity),
        ("team zed", Name),
        ("pe team", Created),
        ("team pe zed", Name),
        ("p zed", Created),
        ("p", Name),
        ("old- z", Created),
        ("ana silva", Created),
        ("", Name),
    ];
    for (search, sort) in cases {
        for include_deactivated in [false, true] {
            let filter = filter(search, *sort, include_deactivated, None);
            let want = expected(&all, &filter);
            let (got, partial) = walk_within(&store, app, &filter, UserScope::default(), budget).await;
            partial_walks += usize::from(partial > 0);
            assert!(ids(&got) == want, "every match once, in order, for {filter:?}");
            let first = store.users_page_within(app, &filter, UserScope::default(), None, PAGE, budget).await.unwrap();
            assert_eq!(ids(&first.users), want[..first.users.len()], "the first matches for {filter:?}");
            // What the browser does with a partial first page: ask for the
            // rest from where it stopped until the page is full.
            let mut shown = users_page_within(&store, app, &filter, None, PAGE, budget).await.unwrap();
            let mut asked = 1;
            while shown.partial {
                let wanted = PAGE - shown.users.len() as i64;
                let cursor = shown.next_cursor.clone().expect("a partial page says where it stopped");
                let more = users_page_within(&store, app, &filter, Some(&cursor), wanted, budget).await.unwrap();
                shown.users.extend(more.users);
                (shown.partial, shown.next_cursor) = (more.partial, more.next_cursor);
                asked += 1;
                assert!(asked < 1000, "the fill-in ends for {filter:?}");
            }
            filled_in += usize::from(asked > 1);
            assert_eq!(ids(&shown.users), want[..want.len().min(PAGE as usize)], "the filled-in page of {filter:?}");
            if first.stopped_at.is_none() {
                assert_eq!(first.users.len(), want.len().min(PAGE as usize), "{filter:?}");
            }
            // A count that may be short says so; one that does not is exact.
            let bound = if search.is_empty() { UsersPage::COUNT_LIMIT } else { UsersPage::SEARCH_COUNT_LIMIT };
            if first.total_is_lower_bound {
                lower_bounds += 1;
                assert!(first.total <= want.len() as i64, "a lower bound for {filter:?}");
            } else {
                assert_eq!(first.total, (want.len() as i64).min(bound), "exact total for {filter:?}");
                assert!(want.len() as i64 <= bound);
            }
        }
    }
    assert!(partial_walks >= 6, "the small budgets ran out ({partial_walks} walks)");
    assert!(filled_in >= 2, "some first pages needed the browser's fill-in ({filled_in})");
    assert!(lower_bounds >= 4, "some counts were cut short ({lower_bounds})");
});

store_test!(an_intersect_whose_ranges_do_not_fit_is_answered_another_way, |store: Store| async move {
    let (app, all) = seed(&store).await;
    // "team" has about 3,400 index entries and "ne" ("new", "new-42") 4,200:
    // within a range budget of 5,000 they are intersected; within 2,000
    // neither fits, which the page learns beside its intersect (each range
    // read only up to the budget), so that page is answered by another plan
    // (postings, or with a segment a walk).
    for (range, intersected) in [(5_000, true), (2_000, false)] {
        // Only segments of up to 300 members drive (the "Odd" one has 2,100).
        let budget = Budget { range, members: 300, ..Budget::default() };
        let cases = [
            ("team ne", UserSort::Name, None),
            ("ne team", UserSort::Created, Some("Odd")),
            // A third word, checked on each user's row.
            ("team ne pe", UserSort::Name, None),
        ];
        for (search, sort, segment) in cases {
            let filter = filter(search, sort, false, segment);
            let scope = match segment {
                Some(name) => members_of(store.segment_by_name(app, name).await.unwrap().unwrap().id),
                None => UserScope::default(),
            };
            let plan = store.explain_list(app, &filter, scope, budget).await.unwrap();
            assert_eq!(plan == "intersect", intersected, "{filter:?} within {range}: {plan}");
            let want = expected(&all, &filter);
            let first = store.users_page_within(app, &filter, scope, None, PAGE, budget).await.unwrap();
            assert_eq!(ids(&first.users), want[..first.users.len()], "the first page of {filter:?} within {range}");
            let (got, _) = walk_within(&store, app, &filter, scope, budget).await;
            assert!(ids(&got) == want, "every match once, in order, for {filter:?} within {range}");
        }
    }
});

store_test!(a_segment_filter_finds_its_members_in_every_plan, |store: Store| async move {
    let (app, all) = seed(&store).await;
    use UserSort::*;
    // (segment, search, order, plan with the default budget, plan when
    // only segments of up to 300 members drive)
    let cases: &[(&str, &str, UserSort, &str, &str)] = &[
        ("Sevens", "", Name, "members", "scan"),
        ("Odd", "", LastActivity, "members", "scan"),
        ("Odd", "", Created, "members", "scan"),
        ("Sevens", "pe", Created, "members", "scan"),
        ("Odd", "team pe zed", Name, "members", "scan"),
        ("Odd", "ana", Name, "members", "driven"),
        ("Sevens", "silva 1", LastActivity, "members", "driven"),
        ("Odd", "p", LastActivity, "members", "scan"),
        ("Odd", "nobody", Created, "members", "driven"),
    ];
    let small = Budget { walk: 150, postings: 300, count: 400, members: 300, range: 100 };
    let mut partial_walks = 0;
    for (segment_name, search, sort, plan, small_plan) in cases {
        let segment = store.segment_by_name(app, segment_name).await.unwrap().unwrap().id;
        for include_deactivated in [false, true] {
            let filter = filter(search, *sort, include_deactivated, Some(segment_name));
            let want = expected(&all, &filter);
            assert!(want.len() <= all.len() / 2, "a filter that filters: {filter:?}");
            let explain = |budget| store.explain_search(app, &filter, Some(segment), budget);
            assert_eq!(explain(Budget::default()).await.unwrap(), *plan, "plan of {filter:?}");
            assert_eq!(explain(small).await.unwrap(), *small_plan, "small plan of {filter:?}");
            // Through the service, by name, with the default budget: exact.
            let (got, partial) = walk(&store, app, &filter).await;
            assert_eq!(partial, 0, "{filter:?}");
            assert!(ids(&got) == want, "every member, in order, for {filter:?}");
            let first = users_page(&store, app, &filter, None, PAGE).await.unwrap();
            let bound = UsersPage::SEARCH_COUNT_LIMIT;
            assert_eq!(
                (first.total, first.total_is_more),
                ((want.len() as i64).min(bound), want.len() as i64 > bound),
                "total for {filter:?}"
            );
            // On the store within small budgets: partial pages, never wrong.
            let (got, partial) = walk_within(&store, app, &filter, members_of(segment), small).await;
            partial_walks += usize::from(partial > 0);
            assert!(ids(&got) == want, "every member once, in order, within the budget, for {filter:?}");
            let first = store.users_page_within(app, &filter, members_of(segment), None, PAGE, small).await.unwrap();
            if first.total_is_lower_bound {
                assert!(first.total <= want.len() as i64, "a lower bound for {filter:?}");
            } else {
                assert_eq!(first.total, (want.len() as i64).min(bound), "exact total for {filter:?}");
            }
        }
    }
    assert!(partial_walks >= 6, "the small walk budget ran out ({partial_walks} walks)");
});

store_test!(an_unknown_or_foreign_segment_is_not_found, |store: Store| async move {
    let (app, _) = seed(&store).await;
    for name in ["No such segment", "Elsewhere"] {
        let error =
            users_page(&store, app, &filter("", UserSort::Name, false, Some(name)), None, PAGE).await.unwrap_err();
        assert_eq!(error.status_code(), 404, "{name}");
        assert!(error.to_string().contains(name), "{error}");
    }
    let by_case = users_page(&store, app, &filter("", UserSort::Name, false, Some("  sevens ")), None, PAGE).await;
    assert!(by_case.unwrap().users.iter().all(|u| number(u) % 7 == 0), "names match ignoring case and spaces");
});

store_test!(an_activity_window_finds_the_recent_users_in_every_plan, |store: Store| async move {
    let (app, all) = seed(&store).await;
    use UserSort::*;
    // Last seen (ms) is `i * 31 % 1000` for three users in four: a window
    // from 900 holds about 300 users, one from 300 about 2,200.
    // (window start, segment, search, order, plan, plan when only 300 drive)
    type Case<'a> = (i64, Option<&'a str>, &'a str, UserSort, &'a str, &'a str);
    let cases: &[Case] = &[
        (960, None, "", Name, "recent", "recent"),
        (900, None, "", Name, "recent", "scan"),
        (900, None, "", LastActivity, "recent", "everyone"),
        (300, None, "", Created, "recent", "scan"),
        (300, None, "", LastActivity, "recent", "everyone"),
        (900, None, "pe", Name, "recent", "scan"),
        (300, None, "pe", Created, "recent", "scan"),
        (300, None, "team pe", Name, "recent", "scan"),
        (300, None, "old-", Name, "recent", "range"),
        (300, None, "team ne", Created, "recent", "intersect"),
        (300, None, "ana", Name, "driven", "driven"),
        (900, Some("Sevens"), "", Created, "recent", "scan"),
        (300, Some("Sevens"), "", Name, "members", "scan"),
        (300, Some("Odd"), "p", LastActivity, "members", "scan"),
        (1, None, "", Created, "recent", "scan"),
    ];
    // Small budgets, but words of thousands of entries may be read whole.
    let small = Budget { walk: 150, postings: 300, count: 400, members: 300, range: 10_000 };
    let last_seen: std::collections::HashMap<i64, i64> =
        all.iter().map(|u| (u.id, u.last_seen_at.unwrap_or(0))).collect();
    let mut wrong_plans = Vec::new();
    for (since, segment_name, search, sort, plan, small_plan) in cases {
        let segment = match segment_name {
            Some(name) => Some(store.segment_by_name(app, name).await.unwrap().unwrap().id),
            None => None,
        };
        let scope = UserScope { segment, active_since: Some(*since) };
        for include_deactivated in [false, true] {
            let filter = filter(search, *sort, include_deactivated, *segment_name);
            let want: Vec<i64> = expected(&all, &filter).into_iter().filter(|id| last_seen[id] >= *since).collect();
            assert!(!want.is_empty() || *search == "ana", "a case with matches: {since} {filter:?}");
            for (budget, wanted_plan) in [(Budget::default(), plan), (small, small_plan)] {
                let explained = store.explain_list(app, &filter, scope, budget).await.unwrap();
                if explained != **wanted_plan {
                    wrong_plans.push(format!("{since} {filter:?} {budget:?}: {explained}, not {wanted_plan}"));
                }
                let (got, _) = walk_within(&store, app, &filter, scope, budget).await;
                assert!(ids(&got) == want, "every recent match once, in order, for {since} {filter:?} {budget:?}");
                let first = store.users_page_within(app, &filter, scope, None, PAGE, budget).await.unwrap();
                assert_eq!(ids(&first.users), want[..first.users.len()], "the first matches for {since} {filter:?}");
                let bound = if search.is_empty() && segment.is_none() {
                    UsersPage::COUNT_LIMIT
                } else {
                    UsersPage::SEARCH_COUNT_LIMIT
                };
                if first.total_is_lower_bound {
                    assert!(first.total <= want.len() as i64, "a lower bound for {since} {filter:?}");
                } else {
                    assert_eq!(first.total, (want.len() as i64).min(bound), "exact total for {since} {filter:?}");
                }
            }
            // With the default budget the first page is complete.
            let first = store.users_page_within(app, &filter, scope, None, PAGE, Budget::default()).await.unwrap();
            assert_eq!(ids(&first.users), want[..want.len().min(PAGE as usize)], "first page of {since} {filter:?}");
        }
    }
    assert!(wrong_plans.is_empty(), "plans:\n{}", wrong_plans.join("\n"));
});
