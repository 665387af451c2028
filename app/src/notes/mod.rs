//! Notes on a user: admins write, edit their own and delete any; everyone
//! reads them, newest first, and sees a change on every open copy of the
//! profile at once. Also "Also viewing": the other accounts with the
//! profile open.

mod api;
pub use crate::model::notes as model;
mod also_viewing;
mod notes_box;
#[cfg(feature = "ssr")]
pub mod service;

pub use also_viewing::AlsoViewing;
pub use api::*;
pub use notes_box::{NotesBox, NotesState, Reader as NotesReader};
