#![recursion_limit = "256"]
//! `server`: serves the Audience console and runs operator commands.
//! Everything lives in the library so tests can start the real app.

/// A server render allocates many small strings and views; with glibc's
/// allocator a quarter of the server's CPU in `server bench profile` was
/// malloc and free (perf). mimalloc's thread-local pools take most of it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    server::cli::main()
}
