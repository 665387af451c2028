//! Audience > Users.

mod api;
mod list_page;
#[cfg(feature = "ssr")]
pub mod service;

pub use api::*;
pub use list_page::UsersPage;
