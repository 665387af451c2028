//! The Audience console: Leptos components and server functions.
//!
//! Built twice: with `ssr` into the axum server (server functions run there,
//! against the store), and with `hydrate` into the wasm bundle.

pub mod auth;
pub mod error;
mod layout;
pub mod model;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod store;
pub mod time;
pub mod users;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::path;

use layout::{Layout, NotFound};

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Stylesheet id="leptos" href="/pkg/audience.css" />
        <Title formatter=|title: String| {
            if title.is_empty() { "Audience".to_string() } else { format!("{title} · Audience") }
        } />
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("") view=|| view! { <Redirect path="/users" /> } />
                    <Route path=path!("users") view=users::UsersPage />
                </Routes>
            </Layout>
        </Router>
    }
}
