//! The users page as the server renders it (no JavaScript): a search that
//! needs more rounds than one answer allows still shows its complete first
//! page (the page's fetch asks for the rest before it is sent), and a count
//! that may be short reads as a lower bound.

mod common;

use app::store::{BulkUser, Store};
use app::store_test;
use common::TestApp;
use reqwest::StatusCode;

const NOT_FINISHED: &str = "The search is not finished";

store_test!(a_search_past_one_answers_rounds_shows_its_complete_first_page, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, _) = app.new_app("Shop").await;
    // By last activity, 12,600 "Aaa" users without the word come first:
    // more than one answer's rounds walk (8 × 1,500). The 60 "Zed" users
    // after them have "zz…" emails.
    let aaa = 12_600;
    let users: Vec<BulkUser> = (0..aaa + 60)
        .map(|i| {
            let zed = i >= aaa;
            BulkUser {
                external_id: format!("u{i}"),
                user_name: Some(if zed { format!("Zed {i}") } else { format!("Aaa {i}") }),
                email: zed.then(|| format!("zz{i}@x.test")),
                created_at: i,
                last_seen_at: Some(1_000_000 - i),
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

    let html = get("/users?q=zz&sort=activity".into()).await;
    assert!(!html.contains(NOT_FINISHED), "a complete page");
    assert_eq!(html.matches("<td class=\"mono\">u").count(), 50, "the first page is full");
    assert!(html.contains(&format!(">Zed {aaa}<")) && !html.contains(">Aaa"), "the first matches, only matches");
    let next = html.split("href=\"").find_map(|rest| {
        let href = rest.split('"').next().unwrap();
        href.contains("after=").then(|| href.replace("&amp;", "&"))
    });
    let html = get(next.expect("a next-page link")).await;
    assert_eq!(html.matches("<td class=\"mono\">u").count(), 10, "the next page holds the rest");
    assert!(html.contains(&format!(">Zed {}<", aaa + 59)));

    // The count of a broad search reads as a lower bound.
    let html = get("/users?q=aaa&sort=name".into()).await;
    assert!(!html.contains(NOT_FINISHED) && html.contains("at least 1,000 users"));
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

store_test!(the_activity_filter_lists_the_recently_active_users_with_its_chip, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, _) = app.new_app("Shop").await;
    let now = app::time::now_ms();
    let minute = 60_000;
    // Seen 2, 20 and 90 minutes ago, and never.
    let users: Vec<BulkUser> = [("recent", Some(2)), ("earlier", Some(20)), ("old", Some(90)), ("never", None)]
        .into_iter()
        .map(|(name, ago)| BulkUser {
            external_id: name.into(),
            user_name: Some(format!("User {name}")),
            email: None,
            created_at: 1,
            last_seen_at: ago.map(|m: i64| now - m * minute),
        })
        .collect();
    app.store.bulk_insert_users(app_id, &users).await.unwrap();
    app.new_account("viewer@example.com", "viewer").await;
    let browser = app.browser();
    app.sign_in(&browser, "viewer@example.com").await;
    for (window, shown) in [("5m", &["recent"][..]), ("30m", &["recent", "earlier"]), ("1h", &["recent", "earlier"])] {
        let page = browser.get(format!("{}/users?active={window}", app.base)).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("Active in "), "the filter's chip for {window}");
        for name in ["recent", "earlier", "old", "never"] {
            assert_eq!(html.contains(&format!(">User {name}<")), shown.contains(&name), "{name} within {window}");
        }
    }
    // An unknown window is no filter.
    let html = browser.get(format!("{}/users?active=2d", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("Active in ") && html.contains(">User never<"));
});
