//! The user profile page (`/users/{id}`): its grid of boxes and the User
//! Profile box with Push Mail. Later features add their boxes to the grid.

pub mod access_log;
mod api;
mod avatar;
#[cfg(feature = "ssr")]
pub mod export;
#[cfg(feature = "ssr")]
pub mod lifecycle;
mod lifecycle_ui;
pub use crate::model::profile as model;
mod options_menu;
mod page;
mod push_mail;
#[cfg(feature = "ssr")]
pub mod service;

pub use api::*;
pub use page::ProfilePage;
