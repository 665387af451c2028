//! The profile's Segments box: the user's segments as chips, "New Segment"
//! and each chip's cross (admins), with a confirmation before removing.

use leptos::html;
use leptos::prelude::*;

use super::model::Segment;
use super::new_segment::NewSegmentModal;
use super::{AddSegments, RemoveSegment};
use crate::layout::ErrorMessage;
use crate::ui::Modal;

/// `initial` comes with the profile (rendered on the server in the same
/// pass); "Add" answers with the user's segments, and a removal takes the
/// segment out once the server confirmed it, so the box changes at once.
#[component]
pub fn SegmentsBox(user_id: i64, can_edit: bool, initial: Vec<Segment>) -> impl IntoView {
    let add = ServerAction::<AddSegments>::new();
    let remove = ServerAction::<RemoveSegment>::new();
    let segments = RwSignal::new(initial);
    // The segment of the last removal sent (an action's input is cleared
    // when it completes).
    let removing = RwSignal::new(None::<i64>);
    Effect::new(move |_| {
        if let Some(Ok(list)) = add.value().get() {
            segments.set(list);
        }
    });
    Effect::new(move |_| {
        if let (Some(Ok(())), Some(id)) = (remove.value().get(), removing.get_untracked()) {
            segments.update(|list| list.retain(|s| s.id != id));
        }
    });
    let modal_open = RwSignal::new(false);
    let new_button = NodeRef::<html::Button>::new();
    // The segment whose removal is being confirmed, and whether the
    // confirmation is open (a chip's cross sets both).
    let confirming = RwSignal::new(None::<Segment>);
    let confirm_open = RwSignal::new(false);
    // The dialogs need the wasm (see `ui::hydrated`).
    let interactive = crate::ui::hydrated();

    view! {
        <section class="box segments-box" aria-labelledby="segments-box-title">
            <div class="box-header">
                <h2 id="segments-box-title">"Segments"</h2>
                {can_edit.then(|| view! {
                    <button
                        type="button"
                        class="primary small"
                        node_ref=new_button
                        aria-haspopup="dialog"
                        disabled=move || !interactive.get()
                        on:click=move |_| modal_open.set(true)
                    >
                        "New Segment"
                    </button>
                })}
            </div>
            {move || {
                let list = segments.get();
                if list.is_empty() {
                    view! { <p class="hint">"No segments yet."</p> }.into_any()
                } else {
                    view! {
                        <ul class="chips" aria-label="Segments of this user">
                            {list
                                .into_iter()
                                .map(|segment| view! { <SegmentChip segment can_edit confirming confirm_open /> })
                                .collect_view()}
                        </ul>
                    }
                    .into_any()
                }
            }}
            {move || remove.value().get().and_then(Result::err).map(|error| view! { <ErrorMessage error /> })}
            {can_edit.then(|| view! {
                <Modal open=modal_open labelled_by="new-segment-title" return_focus=new_button class="segment-modal">
                    <NewSegmentModal user_id open=modal_open add />
                </Modal>
                <Modal open=confirm_open labelled_by="remove-segment-title" alert=true class="confirm">
                    <RemoveConfirmation user_id confirming open=confirm_open remove removing />
                </Modal>
            })}
        </section>
    }
}

/// A segment as a chip; for admins with a cross that asks before removing.
#[component]
fn SegmentChip(
    segment: Segment,
    can_edit: bool,
    confirming: RwSignal<Option<Segment>>,
    confirm_open: RwSignal<bool>,
) -> impl IntoView {
    let interactive = crate::ui::hydrated();
    let label = format!("Remove segment {}", segment.name);
    let name = segment.name.clone();
    let members = crate::user_view::segment_members_href(&segment.name);
    let members_label = format!("Users in segment {}", segment.name);
    view! {
        <li class="chip">
            <a class="chip-name" href=members title=members_label>{name}</a>
            {can_edit.then(|| view! {
                <button
                    type="button"
                    class="chip-remove"
                    aria-label=label.clone()
                    title=label
                    disabled=move || !interactive.get()
                    on:click=move |_| {
                        confirming.set(Some(segment.clone()));
                        confirm_open.set(true);
                    }
                >
                    <span aria-hidden="true">"×"</span>
                </button>
            })}
        </li>
    }
}

#[component]
fn RemoveConfirmation(
    user_id: i64,
    confirming: RwSignal<Option<Segment>>,
    open: RwSignal<bool>,
    remove: ServerAction<RemoveSegment>,
    removing: RwSignal<Option<i64>>,
) -> impl IntoView {
    let segment = confirming.get_untracked();
    let name = segment.as_ref().map(|s| s.name.clone()).unwrap_or_default();
    let confirm = move |_| {
        if let Some(segment) = confirming.get_untracked() {
            removing.set(Some(segment.id));
            remove.dispatch(RemoveSegment { user_id, segment_id: segment.id });
        }
        open.set(false);
    };
    view! {
        <h2 id="remove-segment-title">"Remove segment?"</h2>
        <p>"Remove this user from the segment " <strong>{name}</strong> "?"</p>
        <div class="dialog-actions">
            <button type="button" class="small" autofocus on:click=move |_| open.set(false)>
                "Cancel"
            </button>
            <button type="button" class="danger small" on:click=confirm>
                "Remove"
            </button>
        </div>
    }
}
