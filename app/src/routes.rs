//! The console's pages as lazy routes.
//!
//! With `cargo leptos build --split` each page's code (and whatever only it
//! uses: the profile's map, charts and dialogs, the device page's trail)
//! becomes its own wasm chunk, fetched when the page is first shown, so a
//! first visit to Audience › Users does not download the profile. The server
//! render and hydration are unchanged: the server lists the chunks a page
//! needs as `<link rel="preload">`, and `hydrate_lazy` waits for them.
//!
//! `data()` is empty on purpose: every page starts its own resources, and
//! on a server-rendered first load their results travel in the HTML, so
//! nothing is fetched twice.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// Sign-in form.
pub struct LoginRoute;

#[lazy_route]
impl LazyRoute for LoginRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        crate::auth::LoginPage().into_any()
    }
}

/// Audience › Users.
pub struct UsersRoute;

#[lazy_route]
impl LazyRoute for UsersRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        crate::users::UsersPage().into_any()
    }
}

/// One user's profile.
pub struct ProfileRoute;

#[lazy_route]
impl LazyRoute for ProfileRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        crate::profile::ProfilePage().into_any()
    }
}

/// One device's page.
pub struct DeviceRoute;

#[lazy_route]
impl LazyRoute for DeviceRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        crate::devices::DevicePage().into_any()
    }
}
