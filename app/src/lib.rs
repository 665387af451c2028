#![recursion_limit = "256"]
//! The Audience console: Leptos components and server functions.
//!
//! Built twice: with `ssr` into the axum server (server functions run there,
//! against the store), and with `hydrate` into the wasm bundle.

pub mod activity;
pub mod auth;
#[cfg(feature = "ssr")]
pub mod background;
pub mod codec;
pub mod devices;
pub mod error;
pub mod ids;
pub mod jobs;
pub mod layout;
#[cfg(feature = "ssr")]
pub mod limits;
pub mod live;
pub mod live_page;
pub mod merging;
pub mod messages;
#[cfg(feature = "ssr")]
pub mod metrics;
pub mod model;
pub mod notes;
pub mod profile;
pub mod properties;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod security;
pub mod segments;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "test-support")]
pub mod test_fixtures;
pub mod text;
pub mod time;
pub mod ui;
pub mod user_view;
pub mod users;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::{path, Lazy, SsrMode};

use layout::{ConsoleLayout, NotFound};

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    security::set_page_headers();
    // The maps read their tile source from here once in the browser.
    #[cfg(feature = "ssr")]
    let tiles = use_context::<state::AppState>().map(|state| state.map_tiles);
    #[cfg(not(feature = "ssr"))]
    let tiles: Option<devices::model::MapTiles> = None;
    let tiles = tiles.map(|tiles| {
        view! { <meta name="map-tiles" content=tiles.url data-attribution=tiles.attribution /> }
    });
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                {tiles}
                // The bundle's CSS, by its hashed name when the build hashes them.
                <HashedStylesheet options=options.clone() id="leptos" />
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

/// Every page's `<title>` goes through here (the root `<Title formatter>`).
///
/// On the server the text is HTML-escaped: `leptos_meta` 0.8 writes the
/// title into the rendered `<head>` without escaping it, so a userName such
/// as `</title><script>…` would otherwise become markup. The browser decodes
/// the entities when it parses `<title>`, and in the browser the formatter's
/// result goes to `document.title` as plain text, so people see the real
/// characters either way. Do not remove this while leptos_meta behaves so.
pub fn page_title(title: String) -> String {
    let title = if title.is_empty() { "Audience".to_string() } else { format!("{title} · Audience") };
    #[cfg(feature = "ssr")]
    let title = html_escape::encode_text(&title).into_owned();
    title
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Set once the wasm has taken over, so browser tests know clicks are handled.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    view! {
        <Title formatter=page_title />
        <Router>
            <div class="app-root" data-hydrated=move || hydrated.get().then_some("true")>
            <Routes fallback=NotFound>
                <Route path=path!("login") view={Lazy::<routes::LoginRoute>::new()} />
                <ParentRoute path=path!("") view=ConsoleLayout>
                    <Route path=path!("") view=|| view! { <Redirect path="/users" /> } />
                    // Async too: a bad cursor or an unknown segment answers
                    // with its status (422, 404), set before the first byte.
                    // Not lazy: the console opens here (see `routes`).
                    <Route path=path!("users") view=crate::users::UsersPage ssr=SsrMode::Async />
                    // Async: the whole page waits for its data, so an unknown
                    // user can answer with a real 404 status.
                    <Route path=path!("users/import") view={Lazy::<routes::ImportRoute>::new()} />
                    <Route path=path!("users/:id") view={Lazy::<routes::ProfileRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("devices/:id") view={Lazy::<routes::DeviceRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("live") view={Lazy::<routes::LiveRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("jobs") view={Lazy::<routes::JobsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("jobs/:id") view={Lazy::<routes::JobRoute>::new()} ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
            </div>
        </Router>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::page_title;

    #[test]
    fn server_rendered_titles_carry_no_markup() {
        let title = page_title("</title><script>alert(1)</script><title>".into());
        assert!(!title.contains('<') && !title.contains('>'), "{title}");
        assert_eq!(title, "&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;title&gt; · Audience");
        assert_eq!(page_title(String::new()), "Audience");
        assert_eq!(page_title("Zoë & Ana".into()), "Zoë &amp; Ana · Audience");
    }
}
