//! Real server processes (the built binary) for tests that run more than
//! one instance on one PostgreSQL database.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;

/// A server process, killed when the test ends (even by a panic).
pub struct Instance {
    child: Child,
    pub base: String,
    pub port: u16,
}

impl Instance {
    /// SIGKILL: no shutdown, no flush, as a crash or an OOM kill would.
    pub fn kill_now(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, as an orchestrator stops an instance: it shuts down by itself.
    pub fn terminate(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        assert!(status.is_ok_and(|s| s.success()), "send SIGTERM");
    }

    /// Waits up to `bound` for the process to end; how long it took, or
    /// `None` if it is still running.
    pub async fn exited_within(&mut self, bound: Duration) -> Option<Duration> {
        let started = std::time::Instant::now();
        while started.elapsed() < bound {
            if self.child.try_wait().ok().flatten().is_some() {
                return Some(started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts the server binary on a free port with `env` added, and waits
/// until it is ready (`/readyz`, as a load balancer would).
pub async fn start(database_url: &str, env: &[(&str, &str)]) -> Instance {
    start_on(free_port(), database_url, env).await
}

/// [`start`] on a given port (a restarted instance keeps its address).
pub async fn start_on(port: u16, database_url: &str, env: &[(&str, &str)]) -> Instance {
    start_logged(port, database_url, env, Stdio::inherit()).await
}

/// [`start_on`] with the server's log (stderr) sent to `log`.
pub async fn start_logged(port: u16, database_url: &str, env: &[(&str, &str)], log: Stdio) -> Instance {
    let child = Command::new(env!("CARGO_BIN_EXE_server"))
        .env("DATABASE_URL", database_url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("SMTP_PORT", "0")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("run the server binary");
    let instance = Instance { child, base: format!("http://127.0.0.1:{port}"), port };
    // Ready when it says so; a hang fails the test instead of waiting forever.
    for _ in 0..600 {
        if reqwest::get(format!("{}/readyz", instance.base)).await.is_ok_and(|r| r.status() == StatusCode::OK) {
            return instance;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server on port {port} did not start");
}
