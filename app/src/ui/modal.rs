//! A modal dialog on the native `<dialog>` element: `showModal()` makes the
//! rest of the page inert (focus stays inside, screen readers see only the
//! dialog) and Esc cancels, without hand-written focus trapping. Its
//! content exists only while it is open, so every opening starts fresh.
//! The segment modal, the remove confirmation and the Options menu's
//! dialogs use it.

use leptos::html;
use leptos::prelude::*;

/// The dialog is shown while `open` is true; Esc, a close button or the
/// content setting `open` to false close it. Focus goes back to
/// `return_focus` (the button that opened it) when it closes.
#[component]
pub fn Modal(
    open: RwSignal<bool>,
    /// The id of the element inside `children` that names the dialog.
    labelled_by: &'static str,
    #[prop(optional)] return_focus: Option<NodeRef<html::Button>>,
    #[prop(optional)] class: &'static str,
    /// A confirmation: announced as an alert dialog.
    #[prop(optional)]
    alert: bool,
    children: ChildrenFn,
) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    Effect::new(move |was_open: Option<bool>| {
        let is_open = open.get();
        if let Some(element) = dialog.get() {
            if is_open && !element.open() {
                // Fails only when the element is not connected; then it stays closed.
                let _ = element.show_modal();
            } else if !is_open && element.open() {
                element.close();
            }
        }
        if was_open == Some(true) && !is_open {
            if let Some(button) = return_focus.and_then(|b| b.get()) {
                let _ = button.focus();
            }
        }
        is_open
    });
    let children = StoredValue::new(children);
    view! {
        <dialog
            node_ref=dialog
            class=format!("modal {class}")
            role=if alert { "alertdialog" } else { "dialog" }
            aria-modal="true"
            aria-labelledby=labelled_by
            // Esc (the browser's cancel) and form[method=dialog] end here.
            on:close=move |_| open.set(false)
        >
            <Show when=move || open.get()>{move || children.read_value()()}</Show>
        </dialog>
    }
}

/// A dialog's title (named by `id`, the dialog's `labelled_by`) and its
/// "Close" (×) button, which sets `open` to false.
#[component]
pub fn ModalHeader(id: &'static str, title: &'static str, open: RwSignal<bool>) -> impl IntoView {
    view! {
        <div class="modal-header">
            <h2 id=id>{title}</h2>
            <button type="button" class="close" aria-label="Close" on:click=move |_| open.set(false)>
                <span aria-hidden="true">"×"</span>
            </button>
        </div>
    }
}
