//! The profile's Options menu (top right): a button named "Options" that
//! opens a real menu (`role="menu"`, arrow keys, Home / End, Esc returns
//! focus to the button, Tab or a click elsewhere closes it). Items open
//! their dialogs, download an export (plain links, which also work without
//! the wasm) or act at once. Only admins get the menu: every item changes
//! the user or copies its data out (viewers do not export; see docs/SECURITY.md).

use leptos::html;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys;

use super::lifecycle_ui::{DeactivateDialog, DeleteDialog, LifecycleActions};
use super::SetUserActive;
use crate::merging::MergeDialog;
use crate::messages::{SendMessage, SendMessageModal};
use crate::model::UserSummary;
use crate::ui::Modal;

/// What choosing a menu item does.
#[derive(Clone)]
enum Choice {
    /// Opens a dialog.
    Open(RwSignal<bool>),
    /// Downloads from this URL.
    Download(String),
    /// Reactivates at once (no confirmation needed to undo a deactivation).
    Reactivate,
}

/// The export URLs, served by the server crate (`server/src/export.rs`).
pub fn export_url(user_id: i64, csv: bool) -> String {
    if csv {
        format!("/api/users/{user_id}/events.csv")
    } else {
        format!("/api/users/{user_id}/export")
    }
}

#[component]
pub fn OptionsMenu(user: UserSummary, can_edit: bool, lifecycle: LifecycleActions) -> impl IntoView {
    if !can_edit {
        return ().into_any();
    }
    let user_id = user.id;
    let expanded = RwSignal::new(false);
    let button = NodeRef::<html::Button>::new();
    let send_open = RwSignal::new(false);
    let deactivate_open = RwSignal::new(false);
    let delete_open = RwSignal::new(false);
    let merge_open = RwSignal::new(false);
    let send = ServerAction::<SendMessage>::new();
    // The button does nothing until this component hydrates (on the profile
    // route that can be after the root's Effect ran): disabled until then.
    let ready = crate::ui::hydrated();
    // The items, in order: (label, what choosing it does).
    let mut items: Vec<(&'static str, Choice)> = vec![
        ("Export (JSON)", Choice::Download(export_url(user_id, false))),
        ("Export events (CSV)", Choice::Download(export_url(user_id, true))),
    ];
    if user.active {
        items.push(("Send message", Choice::Open(send_open)));
        items.push(("Deactivate", Choice::Open(deactivate_open)));
    } else {
        items.push(("Reactivate", Choice::Reactivate));
    }
    items.push(("Merge into another user…", Choice::Open(merge_open)));
    items.push(("Delete", Choice::Open(delete_open)));
    // Focus moves between the items' <li>s' links and buttons.
    let refs: Vec<NodeRef<html::Li>> = items.iter().map(|_| NodeRef::new()).collect();
    let count = refs.len();
    let item_at = {
        let refs = refs.clone();
        move |index: usize| -> Option<web_sys::HtmlElement> {
            refs.get(index)?.get()?.first_element_child()?.dyn_into::<web_sys::HtmlElement>().ok()
        }
    };
    let focus = {
        let item_at = item_at.clone();
        move |index: usize| {
            if let Some(item) = item_at(index) {
                let _ = item.focus();
            }
        }
    };
    let close = move |refocus: bool| {
        expanded.set(false);
        if refocus {
            if let Some(b) = button.get() {
                let _ = b.focus();
            }
        }
    };
    // Opening moves focus to the first item.
    let first = focus.clone();
    Effect::new(move |_| {
        if expanded.get() {
            first(0);
        }
    });
    let position = move || {
        let active = document().active_element();
        (0..count)
            .position(|i| item_at(i).is_some_and(|e| active.as_ref() == Some(AsRef::<web_sys::Element>::as_ref(&e))))
    };
    let on_keydown = {
        let focus = focus.clone();
        move |ev: leptos::ev::KeyboardEvent| {
            let at = position().unwrap_or(0);
            match ev.key().as_str() {
                "ArrowDown" => {
                    ev.prevent_default();
                    focus((at + 1) % count);
                }
                "ArrowUp" => {
                    ev.prevent_default();
                    focus((at + count - 1) % count);
                }
                "Home" => {
                    ev.prevent_default();
                    focus(0);
                }
                "End" => {
                    ev.prevent_default();
                    focus(count - 1);
                }
                "Escape" => {
                    ev.prevent_default();
                    close(true);
                }
                "Tab" => close(false),
                _ => {}
            }
        }
    };
    let set_active = lifecycle.set_active;
    let menu_items = items
        .into_iter()
        .zip(refs)
        .map(|((label, choice), node)| {
            let item = match choice {
                Choice::Download(href) => view! {
                    <a role="menuitem" tabindex="-1" href=href download on:click=move |_| expanded.set(false)>
                        {label}
                    </a>
                }
                .into_any(),
                Choice::Open(opens) => view! {
                    <button
                        type="button"
                        role="menuitem"
                        tabindex="-1"
                        on:click=move |_| {
                            expanded.set(false);
                            opens.set(true);
                        }
                    >
                        {label}
                    </button>
                }
                .into_any(),
                Choice::Reactivate => view! {
                    <button
                        type="button"
                        role="menuitem"
                        tabindex="-1"
                        on:click=move |_| {
                            close(true);
                            set_active.dispatch(SetUserActive { user_id, active: true });
                        }
                    >
                        {label}
                    </button>
                }
                .into_any(),
            };
            view! { <li role="none" node_ref=node>{item}</li> }
        })
        .collect_view();
    let name = user.display_name().to_string();
    let external_id = user.external_id.clone();
    view! {
        <div
            class="options-menu"
            on:focusout=move |ev: leptos::ev::FocusEvent| {
                // Focus left the button and the menu: close it.
                let inside = ev
                    .related_target()
                    .and_then(|t| t.dyn_into::<web_sys::Node>().ok())
                    .zip(ev.current_target().and_then(|t| t.dyn_into::<web_sys::Node>().ok()))
                    .is_some_and(|(to, menu)| menu.contains(Some(&to)));
                if !inside {
                    expanded.set(false);
                }
            }
        >
            <button
                type="button"
                class="options-button"
                node_ref=button
                aria-haspopup="menu"
                aria-controls="profile-options"
                disabled=move || !ready.get()
                aria-expanded=move || if expanded.get() { "true" } else { "false" }
                on:click=move |_| expanded.update(|open| *open = !*open)
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if matches!(ev.key().as_str(), "ArrowDown" | "Enter" | " ") {
                        ev.prevent_default();
                        expanded.set(true);
                    }
                }
            >
                "Options"
            </button>
            <ul id="profile-options" role="menu" aria-label="Options" hidden=move || !expanded.get() on:keydown=on_keydown>
                {menu_items}
            </ul>
        </div>
        <Modal open=send_open labelled_by="send-message-title" return_focus=button class="send-message-modal">
            <SendMessageModal user_id open=send_open send />
        </Modal>
        <Modal open=deactivate_open labelled_by="deactivate-title" return_focus=button alert=true>
            <DeactivateDialog user_id name=name.clone() open=deactivate_open actions=lifecycle />
        </Modal>
        <Modal open=merge_open labelled_by="merge-title" return_focus=button class="merge-modal">
            <MergeDialog user_id open=merge_open action=lifecycle.merge />
        </Modal>
        <Modal open=delete_open labelled_by="delete-title" return_focus=button alert=true>
            <DeleteDialog user_id external_id=external_id.clone() open=delete_open actions=lifecycle />
        </Modal>
    }
    .into_any()
}
