//! The console's frame: sidebar menu, content area, and the 404 page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

/// Sidebar + content. Sets `data-hydrated` on its root once the wasm has
/// taken over, so browser tests know when clicks are handled.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    view! {
        <div class="layout" data-hydrated=move || hydrated.get().then_some("true")>
            <nav class="sidebar" aria-label="Main menu">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"◎"</span>
                    "Audience console"
                </a>
                <ul class="menu">
                    <MenuGroup label="Audience" id="menu-audience" prefixes=&["/users"]>
                        <li>
                            <A href="/users">"Users"</A>
                        </li>
                    </MenuGroup>
                </ul>
            </nav>
            <main class="content" id="content">
                {children()}
            </main>
        </div>
    }
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
    let starts_open = location.pathname.with_untracked(|path| prefixes.iter().any(|p| path.starts_with(p)));
    let open = RwSignal::new(starts_open);

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
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
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
