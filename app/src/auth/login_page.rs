//! `/login`: the only page open without a session.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::Login;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let error = move || login.value().get().and_then(Result::err).map(|err| err.to_string());

    view! {
        <Title text="Sign in" />
        <main class="login-page">
            <div class="login-card">
                <p class="brand-line">
                    <span class="brand-mark" aria-hidden="true">"◎"</span>
                    " Audience console"
                </p>
                <h1>"Sign in"</h1>
                <ActionForm action=login>
                    // `value=`: rendered by the server, so signing in before the wasm
                    // loads (or without JavaScript) still returns to the page asked for.
                    <input type="hidden" name="next" value=next />
                    <label for="login-email">"Email"</label>
                    <input id="login-email" type="email" name="email" autocomplete="username" required autofocus />
                    <label for="login-password">"Password"</label>
                    <input
                        id="login-password"
                        type="password"
                        name="password"
                        autocomplete="current-password"
                        required
                    />
                    {move || error().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                    <button type="submit" class="primary" disabled=move || login.pending().get()>
                        {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}
