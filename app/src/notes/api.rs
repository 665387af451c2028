//! Server functions of the notes feature: session and role check, then one
//! service call; a write then tells this instance's open profiles (on
//! PostgreSQL its transaction has told every instance).

use leptos::prelude::*;

use super::model::Note;
use crate::error::AppError;

/// A page of the user's notes, newest first (`before`: the last note id shown).
#[server(endpoint = "notes/list", output = crate::codec::Json)]
pub async fn list_notes(user_id: i64, before: Option<i64>) -> Result<Vec<Note>, AppError> {
    use crate::auth::session::{fail, Caller};
    let caller = Caller::viewer().await?;
    let notes = super::service::notes(&caller.state.store, caller.app.id, user_id, before).await.or_else(fail)?;
    caller.viewed(user_id, crate::model::profile::Viewed::Profile).await.or_else(fail)?;
    Ok(notes)
}

/// Writes a note on the user. Admins only.
#[server(endpoint = "notes/add", output = crate::codec::Json)]
pub async fn add_note(user_id: i64, body: String) -> Result<Note, AppError> {
    use crate::auth::session::{fail, Caller};
    let Caller { state, app, account: admin } = Caller::admin().await?;
    let note = super::service::add(&state.store, app.id, user_id, &body, &admin).await.or_else(fail)?;
    state.live.changed(crate::model::profile::BoxChanged::Notes, app.id, user_id);
    Ok(note)
}

/// Replaces the text of one's own note. Admins only.
#[server(endpoint = "notes/edit", output = crate::codec::Json)]
pub async fn edit_note(user_id: i64, note_id: i64, body: String) -> Result<(), AppError> {
    use crate::auth::session::{fail, Caller};
    let Caller { state, app, account: admin } = Caller::admin().await?;
    super::service::edit(&state.store, app.id, user_id, note_id, &body, &admin).await.or_else(fail)?;
    state.live.changed(crate::model::profile::BoxChanged::Notes, app.id, user_id);
    Ok(())
}

/// Deletes a note (anyone's). Admins only.
#[server(endpoint = "notes/delete", output = crate::codec::Json)]
pub async fn delete_note(user_id: i64, note_id: i64) -> Result<(), AppError> {
    use crate::auth::session::{fail, Caller};
    let Caller { state, app, account: admin } = Caller::admin().await?;
    super::service::delete(&state.store, app.id, user_id, note_id, &admin).await.or_else(fail)?;
    state.live.changed(crate::model::profile::BoxChanged::Notes, app.id, user_id);
    Ok(())
}
