//! The dialogs of Options > Deactivate and Options > Delete, and the
//! "Deactivated" banner with Reactivate. Each is an `ActionForm`, so it also
//! posts without the wasm.

use leptos::form::ActionForm;
use leptos::prelude::*;

use super::{DeleteUser, SetUserActive};
use crate::layout::ErrorMessage;
use crate::merging::{MergeUser, UndoMerge};
use crate::ui::ModalHeader;

/// The profile's lifecycle actions; the profile reloads when one completes.
#[derive(Clone, Copy)]
pub struct LifecycleActions {
    pub set_active: ServerAction<SetUserActive>,
    pub delete: ServerAction<DeleteUser>,
    pub merge: ServerAction<MergeUser>,
    pub undo_merge: ServerAction<UndoMerge>,
}

#[component]
pub fn DeactivateDialog(user_id: i64, name: String, open: RwSignal<bool>, actions: LifecycleActions) -> impl IntoView {
    let action = actions.set_active;
    // Close once this opening's deactivation succeeded.
    let version = action.version().get_untracked();
    Effect::new(move |_| {
        if action.version().get() > version && matches!(action.value().get(), Some(Ok(_))) {
            open.set(false);
        }
    });
    let error = move || action.value().get().and_then(Result::err);
    view! {
        <ModalHeader id="deactivate-title" title="Deactivate this user?" open />
        <ActionForm action attr:class="deactivate-user">
            <input type="hidden" name="user_id" value=user_id />
            <input type="hidden" name="active" value="false" />
            <p>
                <strong>{name}</strong>
                " and their devices will disappear from the users list, searches, segment filters and maps. "
                "The profile stays reachable by its address, with Reactivate. Registering again through the API also reactivates."
            </p>
            {move || error().map(|error| view! { <ErrorMessage error /> })}
            <div class="modal-actions">
                <button type="button" on:click=move |_| open.set(false)>"Cancel"</button>
                <button type="submit" class="danger" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Deactivating…" } else { "Deactivate" }}
                </button>
            </div>
        </ActionForm>
    }
}

/// Delete asks for the userID, typed: the button is enabled once it
/// matches, and the server checks it again.
#[component]
pub fn DeleteDialog(
    user_id: i64,
    external_id: String,
    open: RwSignal<bool>,
    actions: LifecycleActions,
) -> impl IntoView {
    let action = actions.delete;
    let typed = RwSignal::new(String::new());
    let expected = StoredValue::new(external_id.clone());
    let matches = move || expected.with_value(|id| typed.get().trim() == id.as_str());
    let error = move || action.value().get().and_then(Result::err);
    view! {
        <ModalHeader id="delete-title" title="Delete this user for good?" open />
        <ActionForm action attr:class="delete-user">
            <input type="hidden" name="user_id" value=user_id />
            <p>
                "This deletes the user with their devices, locations, events, messages and deliveries, segment memberships and Push Mail address. "
                "It cannot be undone. The audit log keeps only that a user was deleted, by whom and when."
            </p>
            <label for="delete-confirmation">
                "Type the userID " <code class="mono">{external_id}</code> " to confirm"
            </label>
            <input
                id="delete-confirmation"
                name="confirmation"
                required
                autocomplete="off"
                spellcheck="false"
                on:input=move |ev| typed.set(event_target_value(&ev))
            />
            {move || error().map(|error| view! { <ErrorMessage error /> })}
            <div class="modal-actions">
                <button type="button" on:click=move |_| open.set(false)>"Cancel"</button>
                <button type="submit" class="danger" disabled=move || action.pending().get() || !matches()>
                    {move || if action.pending().get() { "Deleting…" } else { "Delete" }}
                </button>
            </div>
        </ActionForm>
    }
}

/// Shown on a deactivated user's profile.
#[component]
pub fn DeactivatedBanner(user_id: i64, can_edit: bool, actions: LifecycleActions) -> impl IntoView {
    let action = actions.set_active;
    let error = move || action.value().get().and_then(Result::err);
    view! {
        <div class="banner deactivated-banner" role="status">
            <p>
                <strong>"Deactivated."</strong>
                " This user and their devices are hidden from the users list, searches, segment filters and maps."
            </p>
            {can_edit
                .then(|| {
                    view! {
                        <ActionForm action attr:class="reactivate-user">
                            <input type="hidden" name="user_id" value=user_id />
                            <input type="hidden" name="active" value="true" />
                            <button type="submit" class="primary" disabled=move || action.pending().get()>
                                "Reactivate"
                            </button>
                        </ActionForm>
                    }
                })}
            {move || error().map(|error| view! { <ErrorMessage error /> })}
        </div>
    }
}
