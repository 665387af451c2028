//! Every search strategy of the users list (driven, sorted postings, scan)
//! gives exactly the users a brute-force search finds, in list order, page
//! by page, on both databases. Pages whose budget ran out (partial) hold
//! only matches, in order, and say so; the pages after them go on from
//! where they stopped, so the walk still finds every match exactly once.

use std::cmp::Reverse;

use app::model::{UserFilter, UserSort, UserSummary, UsersPage};
use app::store::{sort_key_of, Budget, BulkUser, Position, Store};
use app::store_test;
use app::users::service::users_page;
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
    let everyone = UserFilter { search: String::new(), sort: UserSort::Created, include_deactivated: true };
    let (all, _) = walk(store, app, &everyone).await;
    for user in all.iter().filter(|u| u.external_id[4..].parse::<i64>().unwrap() % 11 == 0) {
        store.set_user_active(app, user.id, false, 5).await.unwrap();
    }
    (app, walk(store, app, &everyone).await.0)
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
async fn walk_within(store: &Store, app: i64, filter: &UserFilter, budget: Budget) -> (Vec<UserSummary>, usize) {
    let max_pages = 4 * USERS as usize;
    let (mut users, mut partial) = (Vec::new(), 0);
    let mut after: Option<Position> = None;
    for _ in 0..max_pages {
        let page = store.users_page_within(app, filter, after.clone(), PAGE, budget).await.unwrap();
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
        ("zed p", Name, "postings zed", 0),
        ("team zed", Name, "postings zed & team", 0),
        ("pe team", Created, "postings pedro,pereira,person & team", 0),
        ("team pe zed", Name, "postings zed & pedro,pereira,person & team", 0),
        ("team pe", LastActivity, "scan", 0),
        ("p zed", Created, "postings zed", 0),
        ("p", Name, "scan", 0),
        ("p", Created, "scan", 0),
        ("p", LastActivity, "scan", 0),
        // Old users come after 2,100 new ones: past the walk's 2,000.
        ("old-", Name, "scan", 2),
        ("old-", Created, "scan", 2),
        ("old- z", Created, "scan", 2),
        ("zed 1", Name, "driven", 0),
        ("ana", Name, "driven", 0),
        ("ÁNA", Created, "driven", 0),
        ("p1", Created, "driven", 0), // "p12" and "p12@shop.test": one user, counted once
        ("ana silva", Created, "driven", 0),
        ("silva 1", LastActivity, "driven", 0),
        ("nobody", Name, "driven", 0),
    ];
    for (search, sort, strategy, partial_walks) in cases {
        let mut partial = 0;
        for include_deactivated in [false, true] {
            let filter = UserFilter { search: search.to_string(), sort: *sort, include_deactivated };
            assert_eq!(store.explain_search(app, &filter).await.unwrap(), *strategy, "plan of {filter:?}");
            let want = expected(&all, &filter);
            let (got, partial_pages) = walk(&store, app, &filter).await;
            partial += usize::from(partial_pages > 0);
            assert_eq!(got.len(), want.len(), "how many for {filter:?}");
            assert!(ids(&got) == want, "order for {filter:?}");
            let first = users_page(&store, app, &filter, None, PAGE).await.unwrap();
            if first.partial {
                assert!(first.users.len() < PAGE as usize, "{filter:?}");
            }
            assert_eq!(ids(&first.users), want[..first.users.len()], "the first matches for {filter:?}");
            let bound = if search.is_empty() { UsersPage::COUNT_LIMIT } else { UsersPage::SEARCH_COUNT_LIMIT };
            assert_eq!(
                (first.total, first.total_is_more),
                ((want.len() as i64).min(bound), want.len() as i64 > bound),
                "total for {filter:?}"
            );
        }
        assert_eq!(partial, *partial_walks, "walks with a partial page for {search:?} by {sort:?}");
    }
});

store_test!(small_budgets_answer_partial_pages_that_are_never_wrong, |store: Store| async move {
    let (app, all) = seed(&store).await;
    use UserSort::*;
    let budget = Budget { walk: 150, postings: 300, count: 400 };
    let (mut partial_walks, mut lower_bounds) = (0, 0);
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
            let filter = UserFilter { search: search.to_string(), sort: *sort, include_deactivated };
            let want = expected(&all, &filter);
            let (got, partial) = walk_within(&store, app, &filter, budget).await;
            partial_walks += usize::from(partial > 0);
            assert!(ids(&got) == want, "every match once, in order, for {filter:?}");
            let first = store.users_page_within(app, &filter, None, PAGE, budget).await.unwrap();
            assert_eq!(ids(&first.users), want[..first.users.len()], "the first matches for {filter:?}");
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
    assert!(lower_bounds >= 4, "some counts were cut short ({lower_bounds})");
});
