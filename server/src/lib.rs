#![recursion_limit = "256"]
//! The Audience console's server: the axum app (pages, server functions,
//! ingest API), configuration, and the operator CLI.

pub mod assets;
#[cfg(feature = "bench")]
pub mod bench;
pub mod cli;
pub mod config;
pub mod demo;
pub mod edge;
pub mod export;
pub mod health;
pub mod ingest;
pub mod live;
pub mod metrics;
pub mod request_id;
pub mod route_table;
pub mod serve;
pub mod smtp;
pub mod transfer;
pub mod web;
