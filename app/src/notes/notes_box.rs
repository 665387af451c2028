//! The profile's Notes box: the notes newest first ("Load more" pages on),
//! a form for admins, and in-place editing of one's own notes. A note's
//! change anywhere reloads the box (the live channel's `notes`).

use leptos::ev::{KeyboardEvent, SubmitEvent};
use leptos::html;
use leptos::prelude::*;

use super::model::{note_pieces, Note, NotePiece, MAX_NOTE, NOTES_PAGE};
use super::{AddNote, DeleteNote, EditNote};
use crate::error::AppError;
use crate::layout::ErrorMessage;
use crate::live::use_live;
use crate::ui::{LoadMore, LocalTime};

/// The box's actions and first page, made by the profile page before its
/// first `Suspend` (see `PropertiesState`).
#[derive(Clone, Copy)]
pub struct NotesState {
    pub add: ServerAction<AddNote>,
    pub edit: ServerAction<EditNote>,
    pub delete: ServerAction<DeleteNote>,
    /// Bumped when the live channel says the notes changed.
    pub changed: RwSignal<u64>,
    pub first: Resource<Result<Vec<Note>, AppError>>,
}

impl NotesState {
    pub fn new(user_id: Memo<Option<i64>>) -> NotesState {
        let add = ServerAction::<AddNote>::new();
        let edit = ServerAction::<EditNote>::new();
        let delete = ServerAction::<DeleteNote>::new();
        let changed = RwSignal::new(0);
        let first = Resource::new(
            move || (user_id.get(), add.version().get(), edit.version().get(), delete.version().get(), changed.get()),
            |(user_id, ..)| async move {
                match user_id {
                    Some(user_id) => super::list_notes(user_id, None).await,
                    None => Ok(Vec::new()),
                }
            },
        );
        NotesState { add, edit, delete, changed, first }
    }
}

/// Who reads the box: whether they may write, and their account (whose
/// notes they may edit).
#[derive(Clone, Copy)]
pub struct Reader {
    pub can_edit: bool,
    pub account_id: i64,
}

#[component]
pub fn NotesBox(user_id: i64, reader: Reader, state: NotesState) -> impl IntoView {
    if let Some(feed) = use_live() {
        // The first value is the page's own; later ones are changes.
        Effect::new(move |seen: Option<u64>| {
            let now = feed.notes.get();
            if seen.is_some_and(|seen| seen != now) {
                state.changed.update(|n| *n += 1);
            }
            now
        });
    }
    view! {
        <section class="box notes-box" aria-labelledby="notes-box-title">
            <h2 id="notes-box-title">"Notes"</h2>
            {reader.can_edit.then(|| view! { <NewNote user_id add=state.add /> })}
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading notes…"</p> }>
                {move || Suspend::new(async move {
                    match state.first.await {
                        Ok(notes) if notes.is_empty() => {
                            view! { <p class="empty">"No notes yet."</p> }.into_any()
                        }
                        Ok(notes) => view! { <NoteList user_id first=notes reader state /> }.into_any(),
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The form of a new note (a plain form posting to the server function
/// without JavaScript).
#[component]
fn NewNote(user_id: i64, add: ServerAction<AddNote>) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let form = NodeRef::<html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = add.value().get() {
            text.set(String::new());
            if let Some(form) = form.get() {
                form.reset();
            }
        }
    });
    let error = move || add.value().get().and_then(Result::err);
    view! {
        <ActionForm action=add node_ref=form attr:class="note-form">
            <input type="hidden" name="user_id" value=user_id />
            <label for="new-note">"New note"</label>
            <textarea
                id="new-note"
                name="body"
                rows="3"
                maxlength=MAX_NOTE
                required
                aria-describedby="new-note-hint"
                on:input=move |ev| text.set(event_target_value(&ev))
            ></textarea>
            <p id="new-note-hint" class="hint">
                {move || format!("Plain text; links become clickable. {} of {MAX_NOTE} characters.", text.with(|t| t.chars().count()))}
            </p>
            {move || error().map(|error| view! { <p class="error" role="alert">{error.to_string()}</p> })}
            <button type="submit" class="primary small" disabled=move || add.pending().get()>
                {move || if add.pending().get() { "Adding…" } else { "Add note" }}
            </button>
        </ActionForm>
    }
}

#[component]
fn NoteList(user_id: i64, first: Vec<Note>, reader: Reader, state: NotesState) -> impl IntoView {
    let page = NOTES_PAGE as usize;
    let cursor = RwSignal::new(next_cursor(&first, page));
    let notes = RwSignal::new(first);
    let more = Action::new(move |before: &String| {
        let before = before.parse::<i64>().ok();
        async move { super::list_notes(user_id, before).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(next)) = more.value().get() {
            cursor.set(next_cursor(&next, page));
            notes.update(|list| list.extend(next));
        }
    });
    let failed = move || {
        let edit = state.edit.value().get().and_then(Result::err);
        edit.or_else(|| state.delete.value().get().and_then(Result::err))
    };
    view! {
        {move || failed().map(|error| view! { <p class="error" role="alert">{error.to_string()}</p> })}
        <ol class="notes" aria-label="Notes, newest first">
            <For each=move || notes.get() key=|note| (note.id, note.updated_at) let:note>
                <NoteItem user_id note reader state />
            </For>
        </ol>
        <LoadMore cursor more />
    }
}

#[component]
fn NoteItem(user_id: i64, note: Note, reader: Reader, state: NotesState) -> impl IntoView {
    let editing = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let mine = reader.can_edit && note.author_id == reader.account_id;
    let note_id = note.id;
    let body = note.body.clone();
    view! {
        <li class="note">
            <p class="note-meta">
                <span class="actor">{note.author.clone()}</span>
                ", "
                <LocalTime ms=note.created_at />
                {note.edited().then(|| view! { <span class="edited" title="Edited">" (edited)"</span> })}
            </p>
            {move || if editing.get() {
                view! { <EditForm user_id note_id body=body.clone() editing edit=state.edit /> }.into_any()
            } else {
                view! { <NoteText body=body.clone() /> }.into_any()
            }}
            {move || (!editing.get() && reader.can_edit).then(|| view! {
                <div class="note-actions">
                    {mine.then(|| view! {
                        <button type="button" class="small" on:click=move |_| editing.set(true)>"Edit"</button>
                    })}
                    {move || if confirming.get() {
                        view! {
                            <span role="group" aria-label="Confirm deleting this note">
                                "Delete this note? "
                                <button
                                    type="button"
                                    class="small danger"
                                    on:click=move |_| { state.delete.dispatch(DeleteNote { user_id, note_id }); }
                                >
                                    "Delete"
                                </button>
                                <button type="button" class="small" on:click=move |_| confirming.set(false)>"Cancel"</button>
                            </span>
                        }.into_any()
                    } else {
                        view! {
                            <button type="button" class="small danger" on:click=move |_| confirming.set(true)>"Delete"</button>
                        }
                        .into_any()
                    }}
                </div>
            })}
        </li>
    }
}

/// A note's text: line breaks kept (by the stylesheet), `http(s)` links as
/// links that open in a new tab and tell the target nothing.
#[component]
fn NoteText(body: String) -> impl IntoView {
    let pieces: Vec<_> = note_pieces(&body)
        .into_iter()
        .map(|piece| match piece {
            NotePiece::Text(text) => text.to_string().into_any(),
            NotePiece::Link(url) => view! {
                <a href=url.to_string() target="_blank" rel="noopener noreferrer nofollow ugc">{url.to_string()}</a>
            }
            .into_any(),
        })
        .collect();
    view! { <p class="note-body">{pieces}</p> }
}

/// One's own note, edited in place: Save, or Cancel (or Esc).
#[component]
fn EditForm(
    user_id: i64,
    note_id: i64,
    body: String,
    editing: RwSignal<bool>,
    edit: ServerAction<EditNote>,
) -> impl IntoView {
    let text = RwSignal::new(body.clone());
    let input = NodeRef::<html::Textarea>::new();
    Effect::new(move |_| {
        if let Some(input) = input.get() {
            let _ = input.focus();
        }
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        edit.dispatch(EditNote { user_id, note_id, body: text.get_untracked() });
        editing.set(false);
    };
    let on_keydown = move |ev: KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            editing.set(false);
        }
    };
    let field = format!("note-{note_id}-text");
    view! {
        <form class="note-edit" on:submit=on_submit on:keydown=on_keydown>
            <label for=field.clone() class="visually-hidden">"Note text"</label>
            <textarea
                id=field
                rows="3"
                maxlength=MAX_NOTE
                required
                node_ref=input
                on:input=move |ev| text.set(event_target_value(&ev))
            >
                {body}
            </textarea>
            <button type="submit" class="primary small">"Save"</button>
            <button type="button" class="small" on:click=move |_| editing.set(false)>"Cancel"</button>
        </form>
    }
}

/// The next page's cursor: the last id shown, when the page was full.
fn next_cursor(notes: &[Note], page: usize) -> Option<String> {
    (notes.len() >= page).then(|| notes.last().map(|n| n.id.to_string())).flatten()
}
