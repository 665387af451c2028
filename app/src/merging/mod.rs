//! Merging two users (one person recorded under two userIDs) and undoing
//! a merge. The store does the moving (`store/merges.rs`,
//! `store/merge_undo.rs`); this feature names users by userID for the API
//! and the console, and answers idempotently.

mod api;
mod banner;
mod dialog;
#[cfg(feature = "ssr")]
pub mod service;

pub use api::*;
pub use banner::MergedBanners;
pub use dialog::MergeDialog;
