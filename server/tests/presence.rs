//! Working together on a profile, with real SSE clients: each account with
//! the profile open sees the others ("Also viewing"), an account's second
//! tab counts once, a closed stream leaves, and a new note reaches every
//! open copy. On SQLite and PostgreSQL (one instance); across two
//! instances in `live_instances.rs`.

mod common;

use app::store::Store;
use app::store_test;
use common::{EventStream, TestApp, SSE_PATIENCE};
use reqwest::StatusCode;
use serde_json::json;

store_test!(viewers_of_a_profile_see_each_other_and_its_new_notes, multi_thread, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (app_id, key) = app.new_app("A").await;
    app.put("/api/v1/users/ana", &key, json!({"userName": "Ana"})).await;
    app.put("/api/v1/users/bea", &key, json!({"userName": "Bea"})).await;
    let ana = app.store.user_by_external_id(app_id, "ana").await.unwrap().unwrap().id;
    let bea = app.store.user_by_external_id(app_id, "bea").await.unwrap().unwrap().id;
    app.new_account("admin@example.com", "admin").await;
    app.new_account("pm@example.com", "viewer").await;
    let (admin, pm) = (app.browser(), app.browser());
    app.sign_in(&admin, "admin@example.com").await;
    app.sign_in(&pm, "pm@example.com").await;
    let url = |user: i64| format!("{}/api/live/users/{user}", app.base);
    let audit_before = app.store.recent_audit(100).await.unwrap().len();

    let mut watching = EventStream::open(&pm, &url(ana), None).await;
    assert!(watching.next_presence(SSE_PATIENCE).await.is_empty(), "alone at first");
    let mut first_tab = EventStream::open(&admin, &url(ana), None).await;
    assert_eq!(first_tab.next_presence(SSE_PATIENCE).await, ["pm@example.com (viewer)"]);
    assert_eq!(watching.next_presence(SSE_PATIENCE).await, ["admin@example.com (admin)"]);
    // Another profile's viewers are not this one's.
    let mut elsewhere = EventStream::open(&admin, &url(bea), None).await;
    assert!(elsewhere.next_presence(SSE_PATIENCE).await.is_empty());
    // The admin's second tab counts once: the viewer hears nothing of it,
    // and the next thing it hears is the note the admin writes.
    let mut second_tab = EventStream::open(&admin, &url(ana), None).await;
    assert_eq!(second_tab.next_presence(SSE_PATIENCE).await, ["pm@example.com (viewer)"]);
    let user = ana.to_string();
    let (status, note) = app.server_fn(&admin, "/api/notes/add", &[("user_id", &user), ("body", "Called her")]).await;
    assert_eq!(status, StatusCode::OK, "{note}");
    let heard = watching.next().await;
    assert_eq!((heard.event.as_str(), &heard.data), ("notes", &json!({"user_id": ana})));
    assert_eq!(first_tab.next().await.event, "notes", "the author's other copies hear it too");

    // One tab closed: still there; both closed: gone.
    drop(second_tab);
    drop(first_tab);
    assert!(watching.next_presence(SSE_PATIENCE).await.is_empty(), "the admin left");
    drop(elsewhere);
    // Presence writes nothing: the access log has the streams' views only.
    let audit = app.store.recent_audit(100).await.unwrap();
    let new: Vec<&str> = audit[..audit.len() - audit_before].iter().map(|e| e.action.as_str()).collect();
    assert!(new.iter().all(|a| a.starts_with("viewed") || *a == "added note"), "{new:?}");
});
