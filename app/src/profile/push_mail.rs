//! The Push Mail part of the User Profile box: the address with a copy
//! button, and Generate / Regenerate / Revoke for admins.

use leptos::prelude::*;

use leptos::form::ActionForm;

use super::{GeneratePushMail, RevokePushMail};
use crate::error::AppError;
use crate::layout::ErrorMessage;

/// The profile page's Push Mail actions: it reloads the profile when one completes.
#[derive(Clone, Copy)]
pub struct PushMailActions {
    pub generate: ServerAction<GeneratePushMail>,
    pub revoke: ServerAction<RevokePushMail>,
}

/// Generate / Regenerate / Revoke are `ActionForm`s: with the wasm loaded
/// they call the server function in place; without it they post the form
/// and the server sends the browser back to the profile.
#[component]
pub fn PushMail(user_id: i64, address: Option<String>, can_edit: bool, actions: PushMailActions) -> impl IntoView {
    let PushMailActions { generate, revoke } = actions;
    let busy = move || generate.pending().get() || revoke.pending().get();
    let error = move || {
        let failed = |v: Option<Result<(), AppError>>| v.and_then(Result::err);
        failed(generate.value().get().map(|r| r.map(|_| ()))).or_else(|| failed(revoke.value().get()))
    };
    let has_address = address.is_some();

    view! {
        <div class="push-mail">
            <h3>"Push Mail"</h3>
            {match address {
                Some(address) => view! { <CopyableAddress address /> }.into_any(),
                None => view! { <p class="hint">"No Push Mail address yet."</p> }.into_any(),
            }}
            {can_edit.then(|| view! {
                <div class="actions" data-admin-only="">
                    <ActionForm action=generate>
                        <input type="hidden" name="user_id" value=user_id />
                        <button type="submit" class="primary small" disabled=busy>
                            {if has_address { "Regenerate" } else { "Generate" }}
                        </button>
                    </ActionForm>
                    {has_address.then(|| view! {
                        <ActionForm action=revoke>
                            <input type="hidden" name="user_id" value=user_id />
                            <button type="submit" class="danger small" disabled=busy>"Revoke"</button>
                        </ActionForm>
                    })}
                </div>
            })}
            {move || error().map(|error| view! { <ErrorMessage error /> })}
        </div>
    }
}

#[component]
fn CopyableAddress(address: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let text = address.clone();
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            let promise = window.navigator().clipboard().write_text(&text);
            leptos::task::spawn_local(async move {
                if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
                    copied.set(true);
                    set_timeout(move || copied.set(false), std::time::Duration::from_secs(2));
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &text;
    };
    view! {
        <p class="address">
            <code data-testid="push-mail-address">{address}</code>
            <button type="button" class="small" on:click=copy>
                {move || if copied.get() { "Copied" } else { "Copy" }}
            </button>
        </p>
    }
}
