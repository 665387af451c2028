//! The users page as the server renders it (no JavaScript): a search that
//! ran out of its budget says so in words and offers the next page, and a
//! count that may be short reads as a lower bound.

mod common;

use app::store::{BulkUser, Store};
use app::store_test;
use common::TestApp;
use reqwest::StatusCode;

const PARTIAL: &str = "Showing the first matches; type more to narrow.";

store_test!(a_budgeted_search_says_it_shows_the_first_matches, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, _) = app.new_app("Shop").await;
    // By name, 1,480 "Aaa" users without the word come first; the 2,050
    // "Zed" users have "zz…" emails (4,100 index entries over 4,100 tokens:
    // neither few matches nor few tokens, so the search walks the list).
    let users: Vec<BulkUser> = (0..3530)
        .map(|i| {
            let zed = i >= 1480;
            BulkUser {
                external_id: format!("u{i}"),
                user_name: Some(if zed { format!("Zed {i}") } else { format!("Aaa {i}") }),
                email: zed.then(|| format!("zz{i}@x.test")),
                created_at: i,
                last_seen_at: None,
            }
        })
        .collect();
    app.store.bulk_insert_users(app_id, &users).await.unwrap();
    app.new_account("viewer@example.com", "viewer").await;
    let browser = app.browser();
    app.sign_in(&browser, "viewer@example.com").await;
    let get = |path: String| {
        let (browser, base) = (browser.clone(), app.base.clone());
        async move {
            let page = browser.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(page.status(), StatusCode::OK, "{path}");
            page.text().await.unwrap()
        }
    };

    let html = get("/users?q=zz&sort=name".into()).await;
    assert!(html.contains(PARTIAL), "the partial answer says so");
    assert!(html.contains("at least 1,000 users"), "the count reads as a lower bound");
    // The walk's 1,500 users hold 20 of the matches, in name order.
    assert_eq!(html.matches("<td class=\"mono\">u").count(), 20);
    assert!(html.contains(">Zed 1480<") && !html.contains(">Aaa"), "only matches are shown");
    let next = html.split("href=\"").find_map(|rest| {
        let href = rest.split('"').next().unwrap();
        href.contains("after=").then(|| href.replace("&amp;", "&"))
    });
    let next = next.expect("a next-page link");
    let html = get(next).await;
    assert_eq!(html.matches("<td class=\"mono\">u").count(), 50, "the next page goes on from where it stopped");
    assert!(!html.contains(PARTIAL), "a full page is not partial");

    // A search answered in full says nothing of the kind.
    let html = get("/users?q=aaa&sort=name".into()).await;
    assert!(!html.contains(PARTIAL) && html.contains("at least 1,000 users"));
});

store_test!(the_deleted_notice_comes_from_the_session_once_never_from_the_url, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, _) = app.new_app("Shop").await;
    let input = app::store::UserInput { user_name: Some("Ana"), email: None };
    let user = app.store.upsert_user(app_id, &"ana-42".parse().unwrap(), &input, 1).await.unwrap().id;
    app.new_account("admin@example.com", "admin").await;
    let browser = app.browser();
    app.sign_in(&browser, "admin@example.com").await;
    let page = |path: &'static str| {
        let (browser, base) = (browser.clone(), app.base.clone());
        async move {
            let page = browser.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(page.status(), StatusCode::OK, "{path}");
            page.text().await.unwrap()
        }
    };
    const NOTICE: &str = "Deleted user ";

    // A link cannot make the console announce anything.
    let html = page("/users?deleted=ALL%20USERS%20-%20call%20support").await;
    assert!(!html.contains(NOTICE) && !html.contains("call support"), "no notice from the URL");

    let user_id = user.to_string();
    let (status, body) =
        app.server_fn(&browser, "/api/profile/delete", &[("user_id", &user_id), ("confirmation", "ana-42")]).await;
    assert!(status.is_success() || status.is_redirection(), "{status} {body}");
    let html = page("/users").await;
    assert!(html.contains(NOTICE) && html.contains("ana-42"), "the deleting session is told once");
    let html = page("/users").await;
    assert!(!html.contains(NOTICE), "and only once");
});
