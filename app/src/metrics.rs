//! The console's metrics, by name, in one place: what each one counts is
//! said here (the Prometheus `# HELP` line comes from [`describe`]) and in
//! docs/OPERATIONS.md. Code records them with the `metrics` macros and these
//! names; without an installed recorder (no `METRICS_ADDR`) a macro call
//! does nothing.

/// HTTP requests answered, by `method`, `route` (the route's template, e.g.
/// `/users/{id}`; `static` for files, `unmatched` for no route) and `status`.
pub const HTTP_REQUESTS: &str = "audience_http_requests_total";
/// Time from a request's head to its answer's head, by `method` and `route`.
pub const HTTP_DURATION: &str = "audience_http_request_duration_seconds";
/// Events through the ingest API by `outcome`: `accepted`, `duplicate`
/// (an event id already stored), `refused` (its batch was refused).
pub const INGEST_EVENTS: &str = "audience_ingest_events_total";
/// Time to store one ingest batch of events (checks, queue and commit).
pub const INGEST_BATCH_DURATION: &str = "audience_ingest_batch_duration_seconds";
/// Write transactions tried again after contention (a deadlock, a lock held).
pub const DB_WRITE_RETRIES: &str = "audience_db_write_retries_total";
/// Write transactions that gave up on contention (answered 503 `Busy`).
pub const DB_BUSY: &str = "audience_db_busy_total";
/// Time a write transaction waited to begin (a pool connection; on SQLite,
/// the one writer).
pub const DB_WRITE_WAIT: &str = "audience_db_write_wait_seconds";
/// Pool connections by `pool` (`main`; on SQLite also `writer`) and `state`
/// (`in_use`, `idle`), as of the scrape.
pub const DB_POOL_CONNECTIONS: &str = "audience_db_pool_connections";
/// The most connections each `pool` opens.
pub const DB_POOL_MAX: &str = "audience_db_pool_max_connections";
/// Live streams open on this instance.
pub const LIVE_STREAMS_OPEN: &str = "audience_live_streams_open";
/// Live streams closed because they fell behind the fan-out (the browser
/// resumes them from the database).
pub const LIVE_STREAMS_LAGGED: &str = "audience_live_streams_lagged_total";
/// Time from a commit reaching this instance's fan-out (in-process on
/// SQLite, a notification on PostgreSQL) to its broadcast to the streams.
pub const LIVE_FANOUT_DELAY: &str = "audience_live_fanout_delay_seconds";
/// SMTP sessions opened on the Push Mail listener.
pub const SMTP_SESSIONS: &str = "audience_smtp_sessions_total";
/// Push Mail messages received by SMTP, by `outcome` (`accepted`, `refused`).
pub const SMTP_MESSAGES: &str = "audience_smtp_messages_total";
/// Sign-ins refused for a wrong email or password.
pub const SIGN_IN_FAILURES: &str = "audience_sign_in_failures_total";
/// Requests refused by a rate limit or cap, by `limit` (`ingest`,
/// `sign_in`, `client`, `live_streams`, `live_replay`).
pub const RATE_LIMITED: &str = "audience_rate_limited_total";

/// Gives each metric its help text and unit (call once, after the recorder
/// is installed).
pub fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by method, route template and status.");
    describe_histogram!(HTTP_DURATION, Unit::Seconds, "Time to answer an HTTP request, by method and route template.");
    describe_counter!(INGEST_EVENTS, "Events through the ingest API, by outcome (accepted, duplicate, refused).");
    describe_histogram!(INGEST_BATCH_DURATION, Unit::Seconds, "Time to store one ingest batch of events.");
    describe_counter!(DB_WRITE_RETRIES, "Write transactions tried again after contention.");
    describe_counter!(DB_BUSY, "Write transactions that gave up on contention (answered 503).");
    describe_histogram!(DB_WRITE_WAIT, Unit::Seconds, "Time a write transaction waited to begin.");
    describe_gauge!(DB_POOL_CONNECTIONS, "Database pool connections, by pool and state (in_use, idle).");
    describe_gauge!(DB_POOL_MAX, "The most connections each database pool opens.");
    describe_gauge!(LIVE_STREAMS_OPEN, "Live streams open on this instance.");
    describe_counter!(LIVE_STREAMS_LAGGED, "Live streams closed for falling behind the fan-out.");
    describe_histogram!(LIVE_FANOUT_DELAY, Unit::Seconds, "Time from a commit reaching the fan-out to its broadcast.");
    describe_counter!(SMTP_SESSIONS, "SMTP sessions opened on the Push Mail listener.");
    describe_counter!(SMTP_MESSAGES, "Push Mail messages received by SMTP, by outcome.");
    describe_counter!(SIGN_IN_FAILURES, "Sign-ins refused for a wrong email or password.");
    describe_counter!(RATE_LIMITED, "Requests refused by a rate limit or cap, by limit.");
}

/// Every metric name, for the documentation test.
pub const ALL: [&str; 16] = [
    HTTP_REQUESTS,
    HTTP_DURATION,
    INGEST_EVENTS,
    INGEST_BATCH_DURATION,
    DB_WRITE_RETRIES,
    DB_BUSY,
    DB_WRITE_WAIT,
    DB_POOL_CONNECTIONS,
    DB_POOL_MAX,
    LIVE_STREAMS_OPEN,
    LIVE_STREAMS_LAGGED,
    LIVE_FANOUT_DELAY,
    SMTP_SESSIONS,
    SMTP_MESSAGES,
    SIGN_IN_FAILURES,
    RATE_LIMITED,
];
