//! Bulk loading for the benchmarks' datasets (`server bench seed` and the
//! benches that build their own data): multi-row and `COPY` inserts that
//! skip the ingest path, and the clean-up of earlier bench runs. Compiled
//! only with the `bench` feature (and for tests), never into the shipped
//! server.

mod app_events;
mod app_reset;
mod brute_force;
mod bulk;
mod bulk_load;
mod bulk_seed;
mod settle;

pub use brute_force::BruteForce;
pub use bulk::{BulkEvent, BulkUser};
pub use bulk_load::Cell;
pub use bulk_seed::BulkDevice;
