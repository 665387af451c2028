//! Accounts, sessions, roles and API keys.

mod api;
#[cfg(feature = "ssr")]
pub mod api_key;
mod login_page;
pub use crate::model::auth as model;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod reads;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod session;

pub use api::*;
pub use login_page::LoginPage;
