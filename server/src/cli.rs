//! Operator commands. Output is stable for scripts: secrets such as API keys
//! are printed alone on the last line of stdout; progress goes to stderr.

use std::process::ExitCode;

use anyhow::Context;
use app::auth::api_key;
use app::time::now_ms;
use clap::Parser;

use crate::config::{AppCommand, Cli, Command, Config};
use crate::web::{open_store, Server};

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
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

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => Server::bind(&config).await?.run().await,
        Command::App(AppCommand::Create { name }) => create_app(&config, &name).await,
        Command::DemoData { users } => crate::demo::seed::run(&config, users).await,
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
