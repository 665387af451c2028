//! The profile's activity: the latest hour, live; the event search with its
//! histogram; the unified timeline.

mod api;
pub mod model;
#[cfg(feature = "ssr")]
pub mod service;

pub use api::*;
