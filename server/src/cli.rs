//! Operator commands. Output is stable for scripts: secrets such as API keys
//! are printed alone on the last line of stdout; progress goes to stderr.

use std::process::ExitCode;

use anyhow::Context;
use app::auth::{api_key, password};
use app::store::{write_tx, NewAudit};
use app::time::now_ms;
use clap::Parser;

use crate::config::{AdminCommand, AppCommand, Cli, Command, Config, LogFormat};
use crate::web::{open_store, Server};

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.config.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the whole cause chain on one line, no backtrace.
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr, each line of a request carrying its span (the request
/// id, method and path; see `request_id`).
fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.init(),
        // The request's span as a flat `span` object on each line.
        LogFormat::Json => logs.json().with_current_span(true).with_span_list(false).init(),
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => Server::bind(&config).await?.run().await,
        Command::App(AppCommand::Create { name }) => create_app(&config, &name).await,
        Command::App(AppCommand::RotateKey { name }) => rotate_key(&config, &name).await,
        Command::Admin(AdminCommand::Create { email, role }) => create_admin(&config, &email, &role).await,
        #[cfg(feature = "bench")]
        Command::Bench(command) => crate::bench::run(&config, command).await,
        Command::DemoData { users } => crate::demo::seed::run(&config, users).await,
        #[cfg(feature = "bench")]
        Command::Simulate { api_key, url, interval_ms, batches } => {
            crate::demo::simulate::run(&url, &api_key, interval_ms, batches).await
        }
    }
}

async fn create_app(config: &Config, name: &str) -> anyhow::Result<()> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        anyhow::bail!("the app name must be 1 to 100 characters");
    }
    let store = open_store(config).await?;
    let key = api_key::generate();
    let app = store
        .create_app(name, &api_key::hash(&key), now_ms())
        .await
        .with_context(|| format!("cannot create app '{name}'"))?;
    eprintln!("Created app '{}' (id {}). Its API key is shown once:", app.name, app.id);
    println!("{key}");
    Ok(())
}

async fn rotate_key(config: &Config, name: &str) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let app = store.app_by_name(name).await?.with_context(|| format!("no app named '{name}'"))?;
    let key = api_key::generate();
    let audit = NewAudit { app_id: Some(app.id), actor: "cli", action: "rotated API key", ..Default::default() };
    let now = now_ms();
    // The new key and its audit entry are committed together.
    write_tx!(store, |tx| {
        tx.set_app_key_hash(app.id, &api_key::hash(&key)).await?;
        tx.record_audit(&audit, now).await
    })?;
    eprintln!("New API key for '{}' (the old one no longer works):", app.name);
    println!("{key}");
    Ok(())
}

/// The password comes from ADMIN_PASSWORD, else the first line of stdin.
fn read_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("ADMIN_PASSWORD") {
        return Ok(password);
    }
    eprintln!("Password (from stdin):");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("cannot read the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

async fn create_admin(config: &Config, email: &str, role: &str) -> anyhow::Result<()> {
    let email = email.trim();
    if !email.contains('@') || email.len() > 320 {
        anyhow::bail!("'{email}' is not an email address");
    }
    let password = read_password()?;
    password::check_strength(&password).map_err(|reason| anyhow::anyhow!(reason))?;
    let store = open_store(config).await?;
    let hash = password::hash(password).await.map_err(|err| anyhow::anyhow!("cannot hash the password: {err}"))?;
    let detail = format!("{email} ({role})");
    let audit = NewAudit { actor: "cli", action: "created account", detail: &detail, ..Default::default() };
    let now = now_ms();
    // The account and its audit entry are committed together.
    let id = write_tx!(store, |tx| {
        let id = tx.create_admin(email, &hash, role, now).await?;
        tx.record_audit(&audit, now).await?;
        Ok(id)
    })
    .with_context(|| format!("cannot create {email}"))?;
    println!("Created {role} {email} (id {id}).");
    Ok(())
}
