//! "Send message" (from the profile's Options menu): a title and a body,
//! both required, their limits stated and enforced on the server, a live
//! preview, and "Send". The message appears in the Private messages box at
//! once (the live channel), queued for each of the user's devices.

use leptos::form::ActionForm;
use leptos::prelude::*;

use super::model::{MAX_BODY_CHARS, MAX_TITLE_CHARS};
use super::SendMessage;
use crate::layout::ErrorMessage;
use crate::ui::ModalHeader;

#[component]
pub fn SendMessageModal(user_id: i64, open: RwSignal<bool>, send: ServerAction<SendMessage>) -> impl IntoView {
    let title = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let version = send.version().get_untracked();
    // Close once this opening's send succeeded.
    Effect::new(move |_| {
        if send.version().get() > version && matches!(send.value().get(), Some(Ok(_))) {
            open.set(false);
        }
    });
    let error = move || send.value().get().and_then(Result::err);
    view! {
        <ModalHeader id="send-message-title" title="Send message" open />
        <ActionForm action=send attr:class="send-message">
            <input type="hidden" name="user_id" value=user_id />
            <label for="message-title">"Title" <span class="hint">{format!(" (up to {MAX_TITLE_CHARS} characters)")}</span></label>
            <input
                id="message-title"
                name="title"
                required
                maxlength=MAX_TITLE_CHARS
                autocomplete="off"
                on:input=move |ev| title.set(event_target_value(&ev))
            />
            <label for="message-body">"Message" <span class="hint">{format!(" (up to {MAX_BODY_CHARS} characters)")}</span></label>
            <textarea
                id="message-body"
                name="body"
                required
                rows="5"
                maxlength=MAX_BODY_CHARS
                on:input=move |ev| body.set(event_target_value(&ev))
            ></textarea>
            <section class="message-preview" aria-label="Preview">
                <h3>"Preview"</h3>
                <p class="preview-title">{move || title.get()}</p>
                <p class="preview-body">{move || body.get()}</p>
            </section>
            {move || error().map(|error| view! { <ErrorMessage error /> })}
            <div class="modal-actions">
                <button type="button" on:click=move |_| open.set(false)>"Cancel"</button>
                <button type="submit" class="primary" disabled=move || send.pending().get()>
                    {move || if send.pending().get() { "Sending…" } else { "Send" }}
                </button>
            </div>
        </ActionForm>
    }
}
