//! Private messages to one user: the profile's Private messages box, and
//! inbound Push Mail that becomes messages.

mod api;
#[cfg(feature = "ssr")]
pub mod inbound;
mod messages_box;
pub use crate::model::messages as model;
mod send_modal;
#[cfg(feature = "ssr")]
pub mod service;

pub use api::*;
pub use messages_box::{MessagesBox, MessagesState};
pub use send_modal::SendMessageModal;
