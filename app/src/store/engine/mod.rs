//! The write engine under the feature queries: how the database is opened
//! and tuned, write transactions (one writer on SQLite, retries on
//! contention, multi-row statements in chunks), event batches grouped into
//! shared transactions, SQLite's checkpoints off the writer, PostgreSQL's
//! event partitions and its warmed connection pool.

pub(crate) mod batch;
pub(crate) mod checkpoints;
mod connect;
pub(crate) mod event_groups;
pub mod health;
pub mod partitions;
pub mod pg_pool;
pub mod tx;
#[cfg(test)]
mod tx_tests;
