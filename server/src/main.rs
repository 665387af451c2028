#![recursion_limit = "256"]
//! `server`: serves the Audience console and runs operator commands.
//! Everything lives in the library so tests can start the real app.

fn main() -> std::process::ExitCode {
    server::cli::main()
}
