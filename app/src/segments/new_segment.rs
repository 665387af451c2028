//! The "New Segment" modal: search as you type (debounced; an answer to an
//! older text never replaces a newer one), select with click or arrows and
//! Enter, "Create it?" for a name nobody has, "Done" to review the
//! selection, "Add" to join them all in one call.

use leptos::html;
use leptos::prelude::*;

use super::model::{Segment, SegmentMatch, SegmentSearch};
use super::{create_segment, search_segments, AddSegments};
use crate::error::AppError;
use crate::layout::ErrorMessage;
use crate::ui::{debounced, ModalHeader, TYPING_PAUSE};

#[component]
pub fn NewSegmentModal(user_id: i64, open: RwSignal<bool>, add: ServerAction<AddSegments>) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let answer = RwSignal::new(None::<SegmentSearch>);
    let searching = RwSignal::new(false);
    let highlighted = RwSignal::new(0usize);
    let selected = RwSignal::new(Vec::<Segment>::new());
    let done = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    let creating = RwSignal::new(false);
    // Which keystroke the shown answer belongs to: answers to older ones are dropped.
    let latest = StoredValue::new(0u64);
    let add_version = add.version().get_untracked();
    let search_input = NodeRef::<html::Input>::new();
    let add_button = NodeRef::<html::Button>::new();
    let again_button = NodeRef::<html::Button>::new();
    // Keeps focus on something that exists after the element that had it
    // goes away ("Create it?" once created, "Done" once done).
    let focus_later = move |target: FocusTarget| {
        request_animation_frame(move || {
            let _ = match target {
                FocusTarget::Search => search_input.get().map(|e| e.focus()),
                FocusTarget::AfterDone => match add_button.get().filter(|b| !b.disabled()) {
                    Some(add) => Some(add.focus()),
                    None => again_button.get().map(|e| e.focus()),
                },
            };
        })
    };

    let run_search = move |query: String| {
        let ticket = latest.get_value() + 1;
        latest.set_value(ticket);
        searching.set(true);
        leptos::task::spawn_local(async move {
            let result = search_segments(user_id, query).await;
            if latest.get_value() != ticket {
                return; // a newer search went out meanwhile
            }
            searching.set(false);
            match result {
                Ok(found) => {
                    highlighted.set(0);
                    answer.set(Some(found));
                    error.set(None);
                }
                Err(err) => error.set(Some(err)),
            }
        });
    };
    let debounced = debounced(TYPING_PAUSE, run_search);
    // The first answer (every segment, by name) as soon as the modal opens.
    Effect::new(move |_| run_search(String::new()));

    // Close once "Add" succeeded; show its error otherwise.
    Effect::new(move |_| {
        if add.version().get() != add_version {
            match add.value().get() {
                Some(Ok(_)) => open.set(false),
                Some(Err(err)) => error.set(Some(err)),
                None => {}
            }
        }
    });

    let is_selected = move |id: i64| selected.with(|list| list.iter().any(|s| s.id == id));
    let select = move |found: &SegmentMatch| {
        if found.member || is_selected(found.id) {
            return;
        }
        selected.update(|list| list.push(Segment { id: found.id, name: found.name.clone() }));
    };
    let selectable =
        move || -> Vec<SegmentMatch> { answer.with(|a| a.as_ref().map(|a| a.matches.clone()).unwrap_or_default()) };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let count = answer.with(|a| a.as_ref().map_or(0, |a| a.matches.len()));
        match ev.key().as_str() {
            "ArrowDown" if count > 0 => {
                ev.prevent_default();
                highlighted.update(|h| *h = (*h + 1) % count);
            }
            "ArrowUp" if count > 0 => {
                ev.prevent_default();
                highlighted.update(|h| *h = (*h + count - 1) % count);
            }
            "Enter" => {
                ev.prevent_default();
                if let Some(found) = selectable().get(highlighted.get_untracked()) {
                    select(found);
                }
            }
            _ => {}
        }
    };
    let create = move |_| {
        let name = text.get_untracked();
        creating.set(true);
        leptos::task::spawn_local(async move {
            let created = create_segment(name).await;
            creating.set(false);
            match created {
                Ok(segment) => {
                    if !is_selected(segment.id) {
                        selected.update(|list| list.push(segment.clone()));
                    }
                    error.set(None);
                    debounced(text.get_untracked());
                    focus_later(FocusTarget::Search);
                }
                Err(err) => error.set(Some(err)),
            }
        });
    };
    let can_create = move || {
        let typed = text.with(|t| !t.trim().is_empty());
        let answered_for_text = answer.with(|a| a.as_ref().is_some_and(|a| a.text == text.get()));
        typed && answered_for_text && answer.with(|a| a.as_ref().is_some_and(|a| !a.exact))
    };
    let add_all = move |_| {
        let segment_ids = selected.with_untracked(|list| list.iter().map(|s| s.id).collect());
        error.set(None);
        add.dispatch(AddSegments { user_id, segment_ids });
    };
    let option_id = |id: i64| format!("segment-option-{id}");

    view! {
        <ModalHeader id="new-segment-title" title="Add segments" open />
        <SelectedChips selected />
        <Show
            when=move || !done.get()
            fallback=move || view! {
                <p class="hint" role="status">
                    {move || match selected.with(Vec::len) {
                        0 => "No segments selected.".to_string(),
                        1 => "1 segment selected.".to_string(),
                        n => format!("{n} segments selected."),
                    }}
                </p>
                <button
                    type="button"
                    class="small"
                    node_ref=again_button
                    on:click=move |_| {
                        done.set(false);
                        focus_later(FocusTarget::Search);
                    }
                >
                    "Search again"
                </button>
            }
        >
            <label for="segment-search">"Search segments"</label>
            <div class="segment-search-row">
                <input
                    node_ref=search_input
                    id="segment-search"
                    type="search"
                    autocomplete="off"
                    autofocus
                    role="combobox"
                    aria-autocomplete="list"
                    aria-expanded=move || if selectable().is_empty() { "false" } else { "true" }
                    aria-controls="segment-results"
                    aria-activedescendant=move || {
                        selectable().get(highlighted.get()).map(|found| option_id(found.id)).unwrap_or_default()
                    }
                    prop:value=move || text.get()
                    on:input=move |ev| {
                        let value = event_target_value(&ev);
                        text.set(value.clone());
                        debounced(value);
                    }
                    on:keydown=on_key
                />
                <button
                    type="button"
                    class="small"
                    on:click=move |_| {
                        done.set(true);
                        focus_later(FocusTarget::AfterDone);
                    }
                >
                    "Done"
                </button>
            </div>
            <p class="busy" role="status">{move || searching.get().then_some("Searching…")}</p>
            <ul id="segment-results" class="segment-results" role="listbox" aria-label="Matching segments">
                {move || {
                    selectable()
                        .into_iter()
                        .enumerate()
                        .map(|(index, found)| {
                            let chosen = is_selected(found.id);
                            let current = move || highlighted.get() == index;
                            let label = if found.member {
                                format!("{} (already added)", found.name)
                            } else {
                                found.name.clone()
                            };
                            let item = found.clone();
                            view! {
                                <li
                                    id=option_id(found.id)
                                    role="option"
                                    class="segment-option"
                                    class:highlighted=current
                                    class:member=found.member
                                    aria-selected=if chosen || found.member { "true" } else { "false" }
                                    aria-disabled=if found.member { "true" } else { "false" }
                                    on:mousedown=move |ev| ev.prevent_default()
                                    on:click=move |_| {
                                        highlighted.set(index);
                                        select(&item);
                                    }
                                >
                                    {label}
                                    {chosen.then_some(" ✓")}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            {move || {
                answer.with(|a| a.as_ref().is_some_and(|a| a.matches.is_empty() && a.text == text.get()))
                    .then(|| view! { <p class="hint">"No segment matches."</p> })
            }}
            <Show when=can_create>
                <p class="create-row">
                    {move || format!("No segment is named “{}”. ", text.get().trim())}
                    <button type="button" class="small" on:click=create disabled=move || creating.get()>
                        "Create it?"
                    </button>
                </p>
            </Show>
        </Show>
        {move || error.get().map(|error| view! { <ErrorMessage error /> })}
        <div class="dialog-actions">
            <button type="button" class="small" on:click=move |_| open.set(false)>"Cancel"</button>
            <button
                type="button"
                class="primary small"
                node_ref=add_button
                on:click=add_all
                disabled=move || selected.with(Vec::is_empty) || add.pending().get()
            >
                {move || if add.pending().get() { "Adding…" } else { "Add" }}
            </button>
        </div>
    }
}

#[derive(Clone, Copy)]
enum FocusTarget {
    Search,
    AfterDone,
}

/// The segments selected so far, each with a button to unselect it.
#[component]
fn SelectedChips(selected: RwSignal<Vec<Segment>>) -> impl IntoView {
    view! {
        <ul class="chips selected" aria-label="Selected segments">
            {move || {
                selected
                    .get()
                    .into_iter()
                    .map(|segment| {
                        let id = segment.id;
                        let label = format!("Unselect {}", segment.name);
                        view! {
                            <li class="chip">
                                <span class="chip-name">{segment.name}</span>
                                <button
                                    type="button"
                                    class="chip-remove"
                                    aria-label=label
                                    on:click=move |_| selected.update(|list| list.retain(|s| s.id != id))
                                >
                                    <span aria-hidden="true">"×"</span>
                                </button>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
    }
}
