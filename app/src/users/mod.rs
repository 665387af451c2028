//! Audience > Users.

mod api;
mod list_page;
mod list_view;
mod property_filters;
pub use crate::model::users as model;
#[cfg(feature = "ssr")]
pub mod service;

pub use api::*;
pub use list_page::UsersPage;
pub use list_view::{segment_members_href, ListView};
