//! The profile's activity: the latest hour, live; the event search with its
//! histogram; the unified timeline.

mod api;
pub mod event_row;
mod histogram;
mod latest_box;
pub mod model;
pub mod search_box;
#[cfg(feature = "ssr")]
pub mod service;
mod timeline;

pub use api::*;
pub use latest_box::{LatestActivity, RecentResource};
pub use search_box::{load_activity, search_view, ActivityData, EventSearch, SearchView};
