//! Audience > Users.

mod api;
mod list_page;
pub mod model;
#[cfg(feature = "ssr")]
pub mod service;

pub use api::*;
pub use list_page::{segment_members_href, UsersPage};
