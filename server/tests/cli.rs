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

fn server_with_env(args: &[&str], database_url: &str, env: &[(&str, &str)], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .env_remove("ADMIN_PASSWORD")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run server binary");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn admin_create_takes_the_password_from_env_or_stdin_and_refuses_weak_or_duplicate() {
    let (url, dir) = temp_db("admin");
    let create = |email: &str, role: &str, env: &[(&str, &str)], stdin: &str| {
        server_with_env(&["admin", "create", "--email", email, "--role", role], &url, env, stdin)
    };
    let ok = create("ana@example.com", "admin", &[("ADMIN_PASSWORD", "correct horse battery")], "");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let ok = create("pm@example.com", "viewer", &[], "another long passphrase\n");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));

    let weak = create("bob@example.com", "admin", &[("ADMIN_PASSWORD", "short")], "");
    assert_eq!(weak.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&weak.stderr).contains("at least 10 characters"));
    let duplicate = create("ANA@example.com", "viewer", &[("ADMIN_PASSWORD", "correct horse battery")], "");
    assert_eq!(duplicate.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("already exists"));
    let bad_role = create("cy@example.com", "owner", &[("ADMIN_PASSWORD", "correct horse battery")], "");
    assert_eq!(bad_role.status.code(), Some(2), "clap rejects the role");

    let store = app::store::Store::connect(&url).await.unwrap();
    let ana = store.admin_by_email("ana@example.com").await.unwrap().unwrap();
    assert_eq!(ana.role, app::model::Role::Admin);
    assert!(ana.password_hash.starts_with("$argon2id$"), "stored hashed");
    assert_eq!(store.admin_by_email("pm@example.com").await.unwrap().unwrap().role, app::model::Role::Viewer);
    assert!(store.admin_by_email("bob@example.com").await.unwrap().is_none());
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn rotate_key_replaces_the_key_at_once() {
    let (url, dir) = temp_db("rotate");
    let first = server(&["app", "create", "--name", "Shop"], &url);
    let old = String::from_utf8(first.stdout).unwrap().lines().last().unwrap().to_string();
    let rotated = server(&["app", "rotate-key", "--name", "shop"], &url);
    assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));
    let new = String::from_utf8(rotated.stdout).unwrap().lines().last().unwrap().to_string();
    assert_ne!(old, new);

    let store = app::store::Store::connect(&url).await.unwrap();
    assert!(store.app_by_key_hash(&app::auth::api_key::hash(&old)).await.unwrap().is_none(), "old key is dead");
    assert!(store.app_by_key_hash(&app::auth::api_key::hash(&new)).await.unwrap().is_some());
    store.close().await;
    let missing = server(&["app", "rotate-key", "--name", "nope"], &url);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no app named 'nope'"));
    let _ = std::fs::remove_dir_all(dir);
}
