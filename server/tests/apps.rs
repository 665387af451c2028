//! The dashboard looks at one app at a time; the switcher changes which.

mod common;

use app::store::{Store, UserInput};
use app::store_test;
use common::TestApp;
use reqwest::StatusCode;

store_test!(switching_apps_changes_what_every_query_sees, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (a, _) = app.new_app("Alpha").await;
    let (b, _) = app.new_app("Beta").await;
    let user = |name| UserInput { user_name: Some(name), email: None };
    app.store.upsert_user(a, &"a-1".parse().unwrap(), &user("Only In Alpha"), 5).await.unwrap();
    app.store.upsert_user(b, &"b-1".parse().unwrap(), &user("Only In Beta"), 5).await.unwrap();
    app.new_account("viewer@example.com", "viewer").await;
    let browser = app.browser();
    app.sign_in(&browser, "viewer@example.com").await;

    let names = |page: &serde_json::Value| -> Vec<String> {
        page["users"].as_array().unwrap().iter().map(|u| u["user_name"].as_str().unwrap().to_string()).collect()
    };
    let (_, me) = app.server_fn(&browser, "/api/auth/me", &[]).await;
    assert_eq!(me["app"]["name"], "Alpha", "the oldest app by default");
    assert_eq!(me["apps"].as_array().unwrap().len(), 2);
    let (_, page) = app.server_fn(&browser, "/api/users/list", &[]).await;
    assert_eq!(names(&page), ["Only In Alpha"]);

    let (status, _) = app.server_fn(&browser, "/api/apps/switch", &[("app_id", &b.to_string())]).await;
    assert_eq!(status, StatusCode::OK);
    let (_, page) = app.server_fn(&browser, "/api/users/list", &[]).await;
    assert_eq!(names(&page), ["Only In Beta"]);
    let (_, me) = app.server_fn(&browser, "/api/auth/me", &[]).await;
    assert_eq!(me["app"]["name"], "Beta");

    let (status, err) = app.server_fn(&browser, "/api/apps/switch", &[("app_id", "987654")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{err}");
    let (_, page) = app.server_fn(&browser, "/api/users/list", &[]).await;
    assert_eq!(names(&page), ["Only In Beta"], "a failed switch changes nothing");
});
