//! Segments on the profile: the Segments box, the "New Segment" modal and
//! removal with confirmation.

mod api;
pub use crate::model::segments as model;
mod new_segment;
mod segments_box;
#[cfg(feature = "ssr")]
pub mod service;

pub use api::*;
pub use segments_box::SegmentsBox;
