//! The profile's activity: the latest hour, live; the event search with its
//! histogram; the unified timeline.

mod api;
pub mod event_row;
mod histogram;
mod latest_box;
pub use crate::model::activity as model;
pub mod search_box;
#[cfg(feature = "ssr")]
pub mod service;
mod timeline;

pub use api::*;
pub use latest_box::{LatestActivity, RecentResource};
pub use model::SearchView;
pub use search_box::{load_activity, ActivityData, EventSearch};
