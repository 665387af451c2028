//! The profile's Options menu (top right): a button named "Options" that
//! opens a real menu (`role="menu"`, arrow keys, Home / End, Esc returns
//! focus to the button, Tab or a click elsewhere closes it). Items open
//! their dialogs. Admins get "Send message"; the menu is not shown to
//! viewers while it holds nothing for them.

use leptos::html;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys;

use crate::messages::{SendMessage, SendMessageModal};
use crate::ui::Modal;

#[component]
pub fn OptionsMenu(user_id: i64, can_edit: bool) -> impl IntoView {
    let expanded = RwSignal::new(false);
    let button = NodeRef::<html::Button>::new();
    let send_open = RwSignal::new(false);
    let send = ServerAction::<SendMessage>::new();
    // The items, in order: (label, what choosing it does).
    let items: Vec<(&'static str, RwSignal<bool>)> =
        if can_edit { vec![("Send message", send_open)] } else { Vec::new() };
    if items.is_empty() {
        return ().into_any();
    }
    let refs: Vec<NodeRef<html::Button>> = items.iter().map(|_| NodeRef::new()).collect();
    let count = refs.len();
    let focus = {
        let refs = refs.clone();
        move |index: usize| {
            if let Some(item) = refs.get(index).and_then(|r| r.get()) {
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
    let position = {
        let refs = refs.clone();
        move || {
            let active = document().active_element();
            refs.iter()
                .position(|r| r.get().is_some_and(|b| active.as_ref() == Some(AsRef::<web_sys::Element>::as_ref(&b))))
        }
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
    let menu_items = items
        .into_iter()
        .zip(refs)
        .map(|((label, opens), node)| {
            view! {
                <li role="none">
                    <button
                        type="button"
                        role="menuitem"
                        tabindex="-1"
                        node_ref=node
                        on:click=move |_| {
                            expanded.set(false);
                            opens.set(true);
                        }
                    >
                        {label}
                    </button>
                </li>
            }
        })
        .collect_view();
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
    }
    .into_any()
}
