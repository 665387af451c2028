//! Every search strategy of the users list (driven, sorted postings, scan)
//! gives exactly the users a brute-force search finds, in list order, page
//! by page, on both databases.

use std::cmp::Reverse;

use app::model::{UserFilter, UserSort, UserSummary, UsersPage};
use app::store::{BulkUser, SearchStrategy, Store};
use app::store_test;
use app::users::service::users_page;

const USERS: i64 = 4200;
const PAGE: i64 = 97;

/// Seeds users whose words make each strategy run (counts for 4200 users).
/// New users: "pe" covers pedro, pereira and person (thousands of entries,
/// 3 tokens), "p" thousands of email words. Old users ("old-1", "Zed Old
/// Team 1") come last in both name and created order, past the first walk
/// of a word that covers thousands of tokens. Most are in a "team".
async fn seed(store: &Store) -> (i64, Vec<UserSummary>) {
    let app = store.create_app("Plans", "hp", 1).await.unwrap().id;
    let first = ["Pedro", "Person", "Ana"];
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
    let all = walk(store, app, &everyone).await;
    for user in all.iter().filter(|u| u.external_id[4..].parse::<i64>().unwrap() % 11 == 0) {
        store.set_user_active(app, user.id, false, 5).await.unwrap();
    }
    (app, walk(store, app, &everyone).await)
}

/// Every user of the list, page by page. Fails, rather than hangs, when the
/// cursor repeats or the pages outnumber the users.
async fn walk(store: &Store, app: i64, filter: &UserFilter) -> Vec<UserSummary> {
    let max_pages = (USERS / PAGE + 2) as usize;
    let mut users = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..max_pages {
        let page = users_page(store, app, filter, cursor.as_deref(), PAGE).await.unwrap();
        users.extend(page.users);
        match page.next_cursor {
            Some(next) if cursor.as_ref() == Some(&next) => panic!("the cursor {next} repeats"),
            Some(next) => cursor = Some(next),
            None => return users,
        }
    }
    panic!("no last page after {max_pages} pages of {PAGE}");
}

/// The brute-force answer: every word a prefix of some word or
/// space-separated chunk of the user's userID, name or email; in list order.
fn expected(all: &[UserSummary], filter: &UserFilter) -> Vec<i64> {
    let words: Vec<String> = filter.search.split_whitespace().map(str::to_lowercase).collect();
    let mut found: Vec<&UserSummary> = all
        .iter()
        .filter(|u| filter.include_deactivated || u.active)
        .filter(|u| {
            let text = format!(
                "{} {} {}",
                u.external_id,
                u.user_name.as_deref().unwrap_or(""),
                u.email.as_deref().unwrap_or("")
            )
            .to_lowercase();
            let chunks = text.split_whitespace();
            let tokens: Vec<&str> = chunks.clone().chain(text.split(|c: char| !c.is_alphanumeric())).collect();
            words.iter().all(|w| tokens.iter().any(|t| t.starts_with(w.as_str())))
        })
        .collect();
    let name = |u: &UserSummary| u.user_name.clone().unwrap_or_else(|| u.external_id.clone()).to_lowercase();
    match filter.sort {
        UserSort::Name => found.sort_by_key(|u| (name(u), u.id)),
        UserSort::Created => found.sort_by_key(|u| Reverse((u.created_at, u.id))),
        UserSort::LastActivity => found.sort_by_key(|u| Reverse((u.last_seen_at.unwrap_or(0), u.id))),
    }
    found.into_iter().map(|u| u.id).collect()
}

fn strategy_name(strategy: &SearchStrategy) -> String {
    match strategy {
        SearchStrategy::Postings(words) => {
            let words: Vec<String> = words.iter().map(|tokens| tokens.join(",")).collect();
            format!("postings {}", words.join(" & "))
        }
        other => format!("{other:?}").to_lowercase(),
    }
}

store_test!(every_strategy_finds_what_brute_force_finds, |store: Store| async move {
    let (app, all) = seed(&store).await;
    assert_eq!(all.len() as i64, USERS);
    use UserSort::*;
    let cases: &[(&str, UserSort, &str)] = &[
        ("", Name, "everyone"),
        ("pe", Name, "postings pedro,pereira,person"),
        ("pe", Created, "postings pedro,pereira,person"),
        ("pe", LastActivity, "scan"),
        ("zed p", Name, "postings zed"),
        ("team zed", Name, "postings zed & team"),
        ("pe team", Created, "postings pedro,pereira,person & team"),
        ("team pe zed", Name, "postings zed & pedro,pereira,person & team"),
        ("team pe", LastActivity, "scan"),
        ("p zed", Created, "postings zed"),
        ("p", Name, "scanthenword"),
        ("p", Created, "scanthenword"),
        ("p", LastActivity, "scan"),
        ("old-", Name, "scanthenword"),
        ("old-", Created, "scanthenword"),
        ("old- z", Created, "scanthenword"),
        ("zed 1", Name, "driven"),
        ("ana", Name, "driven"),
        ("p1", Created, "driven"), // "p12" and "p12@shop.test": one user, counted once
        ("ana silva", Created, "driven"),
        ("silva 1", LastActivity, "driven"),
        ("nobody", Name, "driven"),
    ];
    for (search, sort, strategy) in cases {
        let plan = store.plan_search(app, search, *sort).await.unwrap();
        assert_eq!(strategy_name(plan.strategy()), *strategy, "plan of {search:?} by {sort:?}");
        for include_deactivated in [false, true] {
            let filter = UserFilter { search: search.to_string(), sort: *sort, include_deactivated };
            let want = expected(&all, &filter);
            let got: Vec<i64> = walk(&store, app, &filter).await.iter().map(|u| u.id).collect();
            assert_eq!(got.len(), want.len(), "how many for {filter:?}");
            assert!(got == want, "order for {filter:?}");
            let first = users_page(&store, app, &filter, None, PAGE).await.unwrap();
            let bound = if search.is_empty() { UsersPage::COUNT_LIMIT } else { UsersPage::SEARCH_COUNT_LIMIT };
            assert_eq!(
                (first.total, first.total_is_more),
                ((want.len() as i64).min(bound), want.len() as i64 > bound),
                "total for {filter:?}"
            );
        }
    }
});
