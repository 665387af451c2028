//! Options > "Merge into another user…": find the user to keep (searched
//! as the users list searches), see what would move and pick, for each
//! property both users have, whose value stays; then merge.

use leptos::prelude::*;

use super::{merge_candidates, preview_merge, MergeUser};
use crate::error::AppError;
use crate::layout::ErrorMessage;
use crate::model::merges::MergePreview;
use crate::model::UserSummary;
use crate::ui::{debounced, ModalHeader, TYPING_PAUSE};

/// How many users the search offers.
const OFFERED: i64 = 8;

#[component]
pub fn MergeDialog(user_id: i64, open: RwSignal<bool>, action: ServerAction<MergeUser>) -> impl IntoView {
    let found = RwSignal::new(None::<Result<Vec<UserSummary>, AppError>>);
    let chosen = RwSignal::new(None::<i64>);
    let preview = RwSignal::new(None::<Result<MergePreview, AppError>>);
    let take = RwSignal::new(Vec::<String>::new());
    // Which keystroke the shown answer belongs to: answers to older ones are dropped.
    let latest = StoredValue::new(0u64);
    let search = debounced(TYPING_PAUSE, move |text: String| {
        let ticket = latest.get_value() + 1;
        latest.set_value(ticket);
        if text.trim().is_empty() {
            found.set(None);
            return;
        }
        leptos::task::spawn_local(async move {
            let answer = merge_candidates(user_id, text, OFFERED).await;
            if latest.get_value() == ticket {
                found.set(Some(answer));
            }
        });
    });
    let choose = move |into: i64| {
        chosen.set(Some(into));
        take.set(Vec::new());
        preview.set(None);
        leptos::task::spawn_local(async move {
            let answer = preview_merge(user_id, into).await;
            if chosen.get_untracked() == Some(into) {
                preview.set(Some(answer));
            }
        });
    };
    let error = move || action.value().get().and_then(Result::err);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(into) = chosen.get_untracked() {
            action.dispatch(MergeUser { user_id, into, take: Some(take.get_untracked()) });
        }
    };
    let results = move || {
        found.get().map(|answer| match answer {
            Err(error) => view! { <ErrorMessage error /> }.into_any(),
            Ok(users) if users.is_empty() => view! { <p class="empty">"No other user matches."</p> }.into_any(),
            Ok(users) => view! {
                <fieldset class="merge-candidates">
                    <legend>"User to keep"</legend>
                    {users
                        .into_iter()
                        .map(|user| {
                            let id = user.id;
                            let input_id = format!("merge-into-{id}");
                            view! {
                                <div class="choice">
                                    <input
                                        type="radio"
                                        name="into"
                                        id=input_id.clone()
                                        value=id
                                        prop:checked=move || chosen.get() == Some(id)
                                        on:change=move |_| choose(id)
                                    />
                                    <label for=input_id>
                                        {user.display_name().to_string()} " " <code class="mono">{user.external_id.clone()}</code>
                                    </label>
                                </div>
                            }
                        })
                        .collect_view()}
                </fieldset>
            }
            .into_any(),
        })
    };
    view! {
        <ModalHeader id="merge-title" title="Merge into another user" open />
        <form class="merge-user" on:submit=on_submit>
            <p>
                "Everything of this user moves to the user you keep: devices, events, locations, segments, "
                "messages, notes and properties. This user's userID then names the kept user. "
                "You can undo the merge for 7 days."
            </p>
            <label for="merge-search">"Find the user to keep"</label>
            <input
                id="merge-search"
                type="search"
                autocomplete="off"
                spellcheck="false"
                placeholder="userID, name or email"
                on:input=move |ev| search(event_target_value(&ev))
            />
            {results}
            {move || preview.get().map(|answer| match answer {
                Err(error) => view! { <ErrorMessage error /> }.into_any(),
                Ok(preview) => view! { <MergePreviewView preview take /> }.into_any(),
            })}
            {move || error().map(|error| view! { <ErrorMessage error /> })}
            <div class="modal-actions">
                <button type="button" on:click=move |_| open.set(false)>"Cancel"</button>
                <button
                    type="submit"
                    class="danger"
                    disabled=move || action.pending().get() || !matches!(preview.get(), Some(Ok(_)))
                >
                    {move || if action.pending().get() { "Merging…" } else { "Merge" }}
                </button>
            </div>
        </form>
    }
}

/// What would move, and a checkbox per conflicting property ("take this
/// user's value").
#[component]
fn MergePreviewView(preview: MergePreview, take: RwSignal<Vec<String>>) -> impl IntoView {
    let counts = [
        (preview.moves.devices, "device", "devices"),
        (preview.moves.events, "event", "events"),
        (preview.moves.messages, "message", "messages"),
        (preview.moves.notes, "note", "notes"),
        (preview.moves.segments, "segment", "segments"),
        (preview.moves.properties, "property", "properties"),
    ];
    let moves = counts
        .into_iter()
        .map(|(n, one, many)| view! { <li>{format!("{n} {}", if n == 1 { one } else { many })}</li> })
        .collect_view();
    let kept_name = preview.kept.display_name().to_string();
    view! {
        <section class="merge-preview" aria-labelledby="merge-preview-title">
            <h3 id="merge-preview-title">"Moves to " {kept_name.clone()}</h3>
            <ul class="merge-moves">{moves}</ul>
            {preview
                .push_mail
                .then(|| {
                    view! { <p>"This user's Push Mail address stops working; the kept user's stays."</p> }
                })}
            {(!preview.conflicts.is_empty())
                .then(|| {
                    view! {
                        <fieldset class="merge-conflicts">
                            <legend>"Both users have these properties. The kept user's value stays unless you tick it."</legend>
                            {preview
                                .conflicts
                                .into_iter()
                                .map(|conflict| {
                                    let name = conflict.name.clone();
                                    let input_id = format!("merge-take-{name}");
                                    let toggled = name.clone();
                                    view! {
                                        <div class="choice">
                                            <input
                                                type="checkbox"
                                                id=input_id.clone()
                                                on:change=move |ev| {
                                                    let on = event_target_checked(&ev);
                                                    take.update(|names| {
                                                        names.retain(|n| n != &toggled);
                                                        if on {
                                                            names.push(toggled.clone());
                                                        }
                                                    });
                                                }
                                            />
                                            <label for=input_id>
                                                "Take " <code class="mono">{name}</code> " = " {conflict.merged_value}
                                                " (instead of " {conflict.kept_value} ")"
                                            </label>
                                        </div>
                                    }
                                })
                                .collect_view()}
                        </fieldset>
                    }
                })}
        </section>
    }
}
