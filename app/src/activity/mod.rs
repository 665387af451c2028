//! The profile's activity: the latest hour, live; the event search with its
//! histogram; the unified timeline.

pub mod model;
