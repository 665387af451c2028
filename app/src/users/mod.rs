//! Audience > Users.

mod api;
mod list_page;
pub use crate::model::users as model;
#[cfg(feature = "ssr")]
pub mod service;

pub use api::*;
pub use list_page::{segment_members_href, UsersPage};
