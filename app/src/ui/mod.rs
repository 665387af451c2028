//! Components shared by features: the modal dialog.

mod modal;

pub use modal::Modal;
