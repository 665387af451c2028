//! The operator CLI as scripts use it: the real binary, its stdout and exit code.

use std::process::{Command, Output};

fn server(args: &[&str], database_url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_server"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run server binary")
}

fn temp_db(name: &str) -> (String, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("audience-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    (format!("sqlite://{}/nested/console.db", dir.display()), dir)
}

#[tokio::test]
async fn app_create_prints_the_key_alone_on_the_last_line() {
    let (url, dir) = temp_db("create");
    let out = server(&["app", "create", "--name", "Shop"], &url);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let key = stdout.lines().last().unwrap();
    assert!(key.starts_with("aud_") && key.len() == 68, "{stdout:?}");

    // Only the hash is stored, and it finds the app.
    let store = app::store::Store::connect(&url).await.unwrap();
    let app = store.app_by_key_hash(&app::auth::api_key::hash(key)).await.unwrap().unwrap();
    assert_eq!(app.name, "Shop");
    assert!(store.app_by_key_hash(key).await.unwrap().is_none());
    store.close().await;

    let again = server(&["app", "create", "--name", "shop"], &url);
    assert_eq!(again.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already exists"), "{stderr}");
    assert!(again.stdout.is_empty());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn configuration_mistakes_are_one_clear_line_not_a_panic() {
    let out = server(&["app", "create", "--name", "X"], "mysql://localhost/db");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unsupported DATABASE_URL"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let out = server(&["app", "create", "--name", "X"], "postgres://u:secret@127.0.0.1:1/db");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot open database postgres://u:***@127.0.0.1:1/db"), "{stderr}");
    assert!(!stderr.contains("secret"), "password leaked: {stderr}");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (url, dir) = temp_db("port");
    let out = server(&["--addr", &addr], &url);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("cannot listen on {addr}")), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}
