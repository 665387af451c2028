//! "Load more" under a keyset-paged list.

use leptos::prelude::*;

/// The button that loads a list's next page: shown while there is one
/// (`cursor`), disabled until the page is interactive and while a page
/// loads. A failed load is said above it.
#[component]
pub fn LoadMore<T, E>(cursor: RwSignal<Option<String>>, more: Action<String, Result<T, E>>) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    E: std::fmt::Display + Clone + Send + Sync + 'static,
{
    let interactive = super::hydrated();
    view! {
        {move || more.value().get().and_then(Result::err).map(|error| view! { <p class="error" role="alert">{error.to_string()}</p> })}
        {move || cursor.get().map(|next| view! {
            <button
                type="button"
                class="load-more"
                disabled=move || !interactive.get() || more.pending().get()
                on:click=move |_| { more.dispatch(next.clone()); }
            >
                {move || if more.pending().get() { "Loading…" } else { "Load more" }}
            </button>
        })}
    }
}
