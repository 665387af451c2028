//! Server state shared by pages, server functions and the API routes.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::limits::RateLimits;
use crate::store::Store;

/// Handed to `leptos_routes`, which provides it as context to every server
/// function (`expect_context::<AppState>()`), and used as axum state.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Store,
    pub limits: Arc<RateLimits>,
    /// Domain of Push Mail addresses.
    pub pushmail_domain: String,
    /// SHA-256 of the inbound-mail webhook secret (None: endpoint disabled).
    pub inbound_secret_hash: Option<String>,
    /// Committed changes, fanned out to the open profiles' live streams.
    pub live: crate::live::LiveHub,
    /// Where the maps' tiles come from (written into every page's head).
    pub map_tiles: crate::model::devices::MapTiles,
    /// The instance's job runner (bulk actions, imports).
    pub jobs: crate::background::Jobs,
}

/// The server's state, for a server function. An error rather than a panic
/// when there is none: a resource's task that outlives its page's render
/// (the page already answered, its owner disposed) then ends quietly.
pub fn app_state() -> Result<AppState, crate::error::AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::debug!("a server function ran without the server's state (its render is over)");
        crate::error::AppError::Internal
    })
}
