//! Audience > Users.

mod api;
mod bulk_bar;
mod list_page;
mod property_filters;
pub use crate::model::users as model;
#[cfg(feature = "ssr")]
pub mod service;

pub use crate::user_view::{segment_members_href, ListView};
pub use api::*;
pub use list_page::UsersPage;
