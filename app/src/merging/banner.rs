//! On the kept user's profile: a banner per merge into it that can still
//! be undone ("… was merged into this user"), with "Undo merge" (a form,
//! so it also posts without the wasm); and, after an undo, where the
//! restored user is.

use leptos::form::ActionForm;
use leptos::prelude::*;

use super::UndoMerge;
use crate::layout::ErrorMessage;
use crate::model::merges::MergeNote;
use crate::ui::LocalTime;

#[component]
pub fn MergedBanners(
    kept_id: i64,
    merges: Vec<MergeNote>,
    can_edit: bool,
    undo: ServerAction<UndoMerge>,
    /// The user an undo just restored (`?unmerged=`), to link to.
    restored: Signal<Option<i64>>,
) -> impl IntoView {
    let error = move || undo.value().get().and_then(Result::err);
    let banners = merges
        .into_iter()
        .map(|merge| {
            view! {
                <div class="banner merged-banner" role="status">
                    <p>
                        <strong class="mono">{merge.merged_user.clone()}</strong>
                        " was merged into this user on " <LocalTime ms=merge.merged_at /> ". "
                        "The merge can be undone until " <LocalTime ms=merge.undo_until /> "."
                    </p>
                    {can_edit
                        .then(|| {
                            view! {
                                <ActionForm action=undo attr:class="undo-merge">
                                    <input type="hidden" name="merge_id" value=merge.id />
                                    <input type="hidden" name="back_to" value=kept_id />
                                    <button type="submit" disabled=move || undo.pending().get()>
                                        "Undo merge"
                                    </button>
                                </ActionForm>
                            }
                        })}
                </div>
            }
        })
        .collect_view();
    view! {
        {move || {
            restored
                .get()
                .map(|id| {
                    view! {
                        <div class="banner unmerged-banner" role="status">
                            <p>
                                "The merge was undone. "
                                <a href=format!("/users/{id}")>"Open the restored user"</a>
                            </p>
                        </div>
                    }
                })
        }}
        {banners}
        {move || error().map(|error| view! { <ErrorMessage error /> })}
    }
}
