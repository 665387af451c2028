//! The Push Mail part of the User Profile box: the address with a copy
//! button, and Generate / Regenerate / Revoke for admins.

use leptos::prelude::*;

use super::{GeneratePushMail, RevokePushMail};
use crate::layout::ErrorMessage;

#[component]
pub fn PushMail(
    user_id: i64,
    address: Option<String>,
    can_edit: bool,
    /// Called after a change, to reload the profile.
    on_change: Callback<()>,
) -> impl IntoView {
    let generate = ServerAction::<GeneratePushMail>::new();
    let revoke = ServerAction::<RevokePushMail>::new();
    Effect::new(move |_| {
        let generated = generate.value().get().is_some_and(|r| r.is_ok());
        let revoked = revoke.value().get().is_some_and(|r| r.is_ok());
        if generated || revoked {
            on_change.run(());
        }
    });
    let busy = move || generate.pending().get() || revoke.pending().get();
    let error = move || {
        let failed = |v: Option<Result<_, crate::error::AppError>>| v.and_then(Result::err);
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
                    <button
                        type="button"
                        class="primary small"
                        disabled=busy
                        on:click=move |_| { generate.dispatch(GeneratePushMail { user_id }); }
                    >
                        {if has_address { "Regenerate" } else { "Generate" }}
                    </button>
                    {has_address.then(|| view! {
                        <button
                            type="button"
                            class="danger small"
                            disabled=busy
                            on:click=move |_| { revoke.dispatch(RevokePushMail { user_id }); }
                        >
                            "Revoke"
                        </button>
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
