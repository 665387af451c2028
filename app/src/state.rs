//! Server state shared by pages, server functions and the API routes.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::auth::limits::RateLimits;
use crate::store::Store;

/// Handed to `leptos_routes`, which provides it as context to every server
/// function (`expect_context::<AppState>()`), and used as axum state.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Store,
    pub limits: Arc<RateLimits>,
}
