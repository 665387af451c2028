//! The console's frame: sidebar (menu, account, app switcher), content
//! area, and the 404 page.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::{Outlet, A};
use leptos_router::hooks::{use_location, use_navigate};

use crate::auth::{current_account, switch_app, Logout, SwitchApp};
use crate::error::AppError;
use crate::model::Me;

/// The signed-in account, provided to every console page (e.g. to hide
/// controls from viewers; the server checks again).
pub type MeResource = Resource<Result<Me, AppError>>;

/// Which app the console shows, switched in the frame: pages key their data
/// on [`AppSwitch::version`], so they reload in place (no full page reload).
///
/// Not a `ServerAction`: this frame is in the wasm every page loads, and an
/// action brings its machinery (and the no-JavaScript error round trip's
/// decoder) for one call that only needs a version and an error.
#[derive(Clone, Copy)]
pub struct AppSwitch {
    version: RwSignal<u64>,
    failed: RwSignal<Option<AppError>>,
}

impl AppSwitch {
    fn new() -> Self {
        AppSwitch { version: RwSignal::new(0), failed: RwSignal::new(None) }
    }

    /// Changes with every completed switch (tracked).
    pub fn version(&self) -> u64 {
        self.version.get()
    }

    /// Shows `app_id`'s data: every page reloads, and the console goes to
    /// its users list (a user page of the old app would not exist in the new one).
    fn switch_to(self, app_id: i64, then: impl Fn() + 'static) {
        leptos::task::spawn_local(async move {
            match switch_app(app_id).await {
                Ok(()) => {
                    self.failed.set(None);
                    self.version.update(|v| *v += 1);
                    then();
                }
                Err(error) => self.failed.set(Some(error)),
            }
        });
    }
}

/// Sidebar + content for every signed-in page.
#[component]
pub fn ConsoleLayout() -> impl IntoView {
    let switch = AppSwitch::new();
    provide_context(switch);
    let me: MeResource = Resource::new(move || switch.version(), |_| current_account());
    provide_context(me);

    view! {
        <div class="layout">
            <nav class="sidebar" aria-label="Main menu">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"◎"</span>
                    "Audience console"
                </a>
                <Suspense>{move || Suspend::new(async move { me.await.ok().map(|me| view! { <AppSwitcher me /> }) })}</Suspense>
                <ul class="menu">
                    <MenuGroup label="Audience" id="menu-audience" prefixes=&["/users", "/live", "/jobs"]>
                        <li>
                            <A href="/users">"Users"</A>
                        </li>
                        <li>
                            <A href="/live">"Live"</A>
                        </li>
                        <li>
                            <A href="/jobs">"Jobs"</A>
                        </li>
                    </MenuGroup>
                </ul>
                <Suspense>{move || Suspend::new(async move { me.await.ok().map(|me| view! { <Account me /> }) })}</Suspense>
            </nav>
            <main class="content" id="content">
                <Outlet />
            </main>
        </div>
    }
}

#[component]
fn Account(me: Me) -> impl IntoView {
    let role_label = if me.can_edit() { "Admin" } else { "Viewer · read-only" };
    view! {
        <div class="account">
            <p class="account-email" title=me.email.clone()>{me.email.clone()}</p>
            <p class="role-badge" data-role=me.role.as_str()>{role_label}</p>
            // A plain form the browser posts itself, with or without
            // JavaScript: signing out loads the sign-in page afresh (the
            // server answers with a redirect to it), which also drops
            // whatever the page held. Not `ActionForm`: that one reads its
            // fields back with serde_qs, and this frame is on every page,
            // so the parser would be in the wasm every page loads.
            <form method="post" action=Logout::url()>
                <button type="submit" class="link-button">"Sign out"</button>
            </form>
        </div>
    }
}

/// Shown when there is more than one app. Choosing one reloads the data of
/// the page in place and goes to its users list (a user page of the old app
/// would not exist in the new one). Without JavaScript, a "Switch" button
/// posts the form.
#[component]
fn AppSwitcher(me: Me) -> impl IntoView {
    if me.apps.len() < 2 {
        return me
            .app
            .map(|app| view! { <p class="app-name">{app.name}</p> }.into_any())
            .unwrap_or_else(|| ().into_any());
    }
    let current = me.app.as_ref().map(|a| a.id).unwrap_or_default();
    let switch = expect_context::<AppSwitch>();
    let navigate = use_navigate();
    let to_users = move || navigate("/users", Default::default());
    let to_users_too = to_users.clone();
    let chosen = NodeRef::<leptos::html::Select>::new();
    // Set once the switcher has hydrated (Effects run only in the browser):
    // tests wait for it before they choose an app.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    view! {
        // A plain form (see `Account`): with JavaScript a choice switches at
        // once; without it, the "Switch" button posts the form.
        <form
            class="app-switcher"
            data-ready=move || ready.get().to_string()
            method="post"
            action=SwitchApp::url()
            on:submit=move |ev| {
                ev.prevent_default();
                if let Some(app_id) = chosen.get().and_then(|select| select.value().parse::<i64>().ok()) {
                    switch.switch_to(app_id, to_users.clone());
                }
            }
        >
            <label for="app-switcher">"App"</label>
            <select
                node_ref=chosen
                id="app-switcher"
                name="app_id"
                on:change:target=move |ev| {
                    if let Ok(app_id) = ev.target().value().parse::<i64>() {
                        switch.switch_to(app_id, to_users_too.clone());
                    }
                }
            >
                {me
                    .apps
                    .into_iter()
                    .map(|app| view! { <option value=app.id selected=app.id == current>{app.name}</option> })
                    .collect_view()}
            </select>
            <noscript>
                <button type="submit" class="small">"Switch"</button>
            </noscript>
            {move || switch.failed.get().map(|error| view! { <ErrorMessage error /> })}
        </form>
    }
    .into_any()
}

/// An expandable menu section; open while the page shown belongs to it.
#[component]
fn MenuGroup(
    label: &'static str,
    id: &'static str,
    prefixes: &'static [&'static str],
    children: Children,
) -> impl IntoView {
    let location = use_location();
    // Open on the group's pages (and on `/`, which leads to the first of
    // them), and again whenever a navigation enters the group: a closed
    // group would hide where the page is.
    let inside = move |path: &str| path == "/" || prefixes.iter().any(|p| path.starts_with(p));
    let open = RwSignal::new(location.pathname.with_untracked(|path| inside(path)));
    Effect::new(move |_| {
        if location.pathname.with(|path| inside(path)) {
            open.set(true);
        }
    });

    view! {
        <li class="menu-group">
            <button
                type="button"
                class="menu-toggle"
                aria-expanded=move || open.get().to_string()
                aria-controls=id
                on:click=move |_| open.update(|o| *o = !*o)
            >
                {label}
                <span class="chevron" aria-hidden="true"></span>
            </button>
            <ul id=id class="submenu" hidden=move || !open.get()>
                {children()}
            </ul>
        </li>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::error::set_status(404);
    view! {
        <Title text="Not found" />
        <section class="page not-found">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. It may have been moved or deleted."</p>
            <p>
                <A href="/users">"Go to Users"</A>
            </p>
        </section>
    }
}

/// A failed load or action, said plainly; an expired session gets a way back in.
#[component]
pub fn ErrorMessage(error: AppError) -> impl IntoView {
    // A page that renders an error on the server answers with its status.
    #[cfg(feature = "ssr")]
    crate::error::set_status(error.status_code());
    let sign_in = matches!(error, AppError::Unauthorized).then(|| {
        let location = use_location();
        let (path, query) = (location.pathname.get_untracked(), location.search.get_untracked());
        let here = if query.is_empty() { path } else { format!("{path}?{query}") };
        let next: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
        let href = format!("/login?next={next}");
        view! { " " <a href=href>"Sign in again"</a> }
    });
    view! {
        <p class="error" role="alert">
            {error.to_string()}
            {sign_in}
        </p>
    }
}
