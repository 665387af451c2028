//! Segments on the profile: the Segments box, the "New Segment" modal and
//! removal with confirmation.

mod api;
pub mod model;
#[cfg(feature = "ssr")]
pub mod service;

pub use api::*;
