//! User properties on the profile: the Properties box (values formatted by
//! type, a filter when there are many), in-place editing for admins, and
//! the history of changes.

mod api;
pub use crate::model::properties as model;
mod history;
mod properties_box;
#[cfg(feature = "ssr")]
pub mod service;

pub use api::*;
pub use properties_box::{PropertiesBox, PropertiesState, PropertyValueView};
