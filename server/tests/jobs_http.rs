//! Jobs over HTTP with real clients, on SQLite and PostgreSQL: the API's
//! CSV import and its job's progress (scoped to the key's app, size-limited,
//! the header refused in words); the console's upload form (multipart, a
//! redirect to the job's page) and bulk export; a bulk action started
//! through its server function and run by the server's own runner.

mod common;

use std::time::Duration;

use app::store::Store;
use app::store_test;
use common::TestApp;
use reqwest::StatusCode;
use serde_json::Value;

/// Polls `GET /api/v1/jobs/{id}` until the job has ended; its answer.
async fn finished(app: &TestApp, key: &str, id: i64) -> Value {
    for _ in 0..400 {
        let (status, job) = app.send(reqwest::Method::GET, &format!("/api/v1/jobs/{id}"), Some(key), None).await;
        assert_eq!(status, StatusCode::OK, "{job}");
        if ["done", "failed", "cancelled"].contains(&job["status"].as_str().unwrap()) {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("job {id} did not end");
}

async fn post_csv(app: &TestApp, key: &str, query: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let response = app
        .client
        .post(format!("{}/api/v1/users/import{query}", app.base))
        .bearer_auth(key)
        .header("Content-Type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

store_test!(the_api_imports_a_csv_file_as_a_job, |store: Store| async move {
    let (app, _) = TestApp::start_configured(store, |config| config.import_max_mib = 1).await;
    let (shop, key) = app.new_app("Shop").await;
    let (_, other_key) = app.new_app("Other").await;
    let mut csv = b"userID,userName,plan\n".to_vec();
    for i in 0..2_500 {
        csv.extend(format!("u-{i},User {i},{}\n", if i % 2 == 0 { "pro" } else { "free" }).as_bytes());
    }
    csv.extend(b"u-bad,\"never closed\n");
    let (status, job) = post_csv(&app, &key, "", csv.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!((job["kind"].as_str(), job["unit"].as_str()), (Some("import"), Some("bytes")));
    let id = job["id"].as_i64().unwrap();
    let done = finished(&app, &key, id).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!((done["changed"].as_i64(), done["refused"].as_i64()), (Some(2_500), Some(1)));
    assert_eq!(done["total"], done["done"]);
    assert_eq!(done["refusals"][0]["line"], 2_502, "{done}");
    assert_eq!(done["refusals"][0]["userID"], "u-bad");
    assert!(app.store.user_by_external_id(shop, "u-2499").await.unwrap().is_some());

    // Another app's key does not see the job.
    let (status, _) = app.send(reqwest::Method::GET, &format!("/api/v1/jobs/{id}"), Some(&other_key), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A dry run writes nothing.
    let (status, check) = post_csv(&app, &key, "?dryRun=true", b"userID,userName\nu-new,New\n".to_vec()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(check["kind"], "import_check");
    let checked = finished(&app, &key, check["id"].as_i64().unwrap()).await;
    assert_eq!(checked["changed"], 1);
    assert!(app.store.user_by_external_id(shop, "u-new").await.unwrap().is_none());
    // A header without userID, and a file over the limit (1 MiB here).
    let (status, refused) = post_csv(&app, &key, "", b"name,email\nAna,a@b.co\n".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("no userID column"), "{refused}");
    let mut big = b"userID\n".to_vec();
    big.resize(1_200_000, b'x');
    let (status, refused) = post_csv(&app, &key, "", big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{refused}");
    // Without a key, nothing.
    let response = app.client.post(format!("{}/api/v1/users/import", app.base)).body(csv).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
});

store_test!(the_console_uploads_checks_imports_and_exports, |store: Store| async move {
    let app = TestApp::start(store).await;
    let (shop, _) = app.new_app("Shop").await;
    app.new_account("admin@example.com", "admin").await;
    app.new_account("viewer@example.com", "viewer").await;
    let admin = app.browser();
    app.sign_in(&admin, "admin@example.com").await;
    let viewer = app.browser();
    app.sign_in(&viewer, "viewer@example.com").await;
    let form = || {
        let file = reqwest::multipart::Part::bytes(
            b"userID,userName,email\nu-1,Ana,ana@example.com\nu-2,Bo,nope\nu-3,=HYPERLINK(1),\n".to_vec(),
        )
        .file_name("users.csv");
        reqwest::multipart::Form::new().part("file", file)
    };
    let upload = |client: &reqwest::Client| {
        client.post(format!("{}/api/users/import", app.base)).header("Origin", &app.base).multipart(form()).send()
    };
    assert_eq!(upload(&viewer).await.unwrap().status(), StatusCode::FORBIDDEN);
    let cross = admin.post(format!("{}/api/users/import", app.base)).multipart(form()).send().await.unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN, "an upload from another site is refused");
    let answer = upload(&admin).await.unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let to = answer.headers()["location"].to_str().unwrap().to_string();
    let check: i64 = to.strip_prefix("/jobs/").expect("to the job's page").parse().unwrap();

    // The job's page, server-rendered: the preview and the refused row.
    let mut detail = Value::Null;
    for _ in 0..200 {
        let (status, body) = app.server_fn(&admin, "/api/jobs/get", &[("id", &check.to_string())]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        detail = body;
        if detail["job"]["status"] == "Done" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!((detail["job"]["refused"].as_i64(), detail["job"]["changed"].as_i64()), (Some(1), Some(2)), "{detail}");
    assert_eq!(detail["preview"][1]["refused"], "email is not an email address");
    let page = admin.get(format!("{}{to}", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("email is not an email address") && page.contains("Import 2 rows<"), "{page}");

    // "Import": the same file, now written.
    let (status, job) = app.server_fn(&admin, "/api/jobs/import", &[("check", &check.to_string())]).await;
    assert_eq!(status, StatusCode::OK, "{job}");
    for _ in 0..200 {
        if app.store.user_by_external_id(shop, "u-1").await.unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(app.store.user_by_external_id(shop, "u-1").await.unwrap().is_some());

    // A bad file goes back to the form with the reason.
    let bad = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(b"name\nAna\n".to_vec()));
    let answer =
        admin.post(format!("{}/api/users/import", app.base)).header("Origin", &app.base).multipart(bad).send().await;
    let location = answer.unwrap().headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/users/import?error=") && location.contains("userID"), "{location}");

    // Bulk: every user matching "u-" to a segment, through the server function.
    let (status, job) = app
        .server_fn(&admin, "/api/jobs/bulk", &[("action", "add_to_segment"), ("view", "q=u"), ("segment", "Imported")])
        .await;
    assert_eq!(status, StatusCode::OK, "{job}");
    let segment = app.store.segment_by_name(shop, "Imported").await.unwrap().unwrap();
    for _ in 0..200 {
        let (_, job) = app.server_fn(&admin, "/api/jobs/get", &[("id", &job["id"].to_string())]).await;
        if job["job"]["status"] == "Done" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let members =
        app.store.segments_of_user(shop, app.store.user_by_external_id(shop, "u-1").await.unwrap().unwrap().id);
    assert_eq!(members.await.unwrap().iter().map(|s| s.id).collect::<Vec<_>>(), [segment.id]);

    // Export: admins only; the view's users as CSV and JSON.
    let url = format!("{}/api/users/export.csv?view=q%3Du", app.base);
    assert_eq!(viewer.get(&url).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let csv = admin.get(&url).send().await.unwrap();
    assert!(csv.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"users-"));
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("userID,userName,email,active,createdAt,lastSeenAt\n"), "{csv}");
    assert!(csv.contains("u-1,Ana,ana@example.com,true,"), "{csv}");
    assert!(csv.contains("u-3,'=HYPERLINK(1),,true,"), "a formula is neutralised: {csv}");
    let json: Value =
        admin.get(format!("{}/api/users/export.json?view=q%3Du", app.base)).send().await.unwrap().json().await.unwrap();
    let ids: Vec<&str> = json.as_array().unwrap().iter().map(|u| u["userID"].as_str().unwrap()).collect();
    assert_eq!(ids, ["u-3", "u-1"], "newest first: {json}");
    let audit = app.store.recent_audit(10).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "exported users"), "exports are audited");
});
