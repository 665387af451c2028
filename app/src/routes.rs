//! The console's pages as lazy routes.
//!
//! With `cargo leptos build --split` each page's code (and whatever only it
//! uses: the profile's map, charts and dialogs, the device page's trail)
//! becomes its own wasm chunk, fetched when the page is first shown, so a
//! first visit to Audience › Users does not download the profile.
//!
//! Users itself is not one of them: it is where the console opens (`/`
//! and signing in lead there), so its code is in the main module. As a
//! chunk of its own it cost a first visit more (260 KB gzip against 234 KB
//! in one module): six more files, each compressed alone, and the split's
//! glue between them. The server
//! render and hydration are unchanged: the server lists the chunks a page
//! needs as `<link rel="preload">`, and `hydrate_lazy` waits for them.
//!
//! `data()` is empty on purpose: every page starts its own resources, and
//! on a server-rendered first load their results travel in the HTML, so
//! nothing is fetched twice.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// One page as a lazy route: `$route` is the type `App`'s `<Route>` names,
/// `$page` the page component, whose code goes into the route's chunk.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:path) => {
        $(#[$doc])*
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                $page().into_any()
            }
        }
    };
}

lazy_page!(
    /// Sign-in form.
    LoginRoute => crate::auth::LoginPage
);
lazy_page!(
    /// One user's profile.
    ProfileRoute => crate::profile::ProfilePage
);
lazy_page!(
    /// One device's page.
    DeviceRoute => crate::devices::DevicePage
);
lazy_page!(
    /// The app's activity as it happens (Audience > Live).
    LiveRoute => crate::live_page::LivePage
);
lazy_page!(
    /// Recent jobs (Audience > Jobs).
    JobsRoute => crate::jobs::JobsPage
);
lazy_page!(
    /// One job: progress, preview and refusals.
    JobRoute => crate::jobs::JobPage
);
lazy_page!(
    /// Audience > Users > Import.
    ImportRoute => crate::jobs::ImportPage
);
