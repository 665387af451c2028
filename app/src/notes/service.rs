//! Notes as plain async functions over the store: the server functions
//! wrap these and tests call them directly. Each write is one transaction
//! with its audit row (an edit's and a deletion's keep the text they
//! replaced), and tells every open copy of the profile.

use super::model::{note_problem, Note, NOTES_PAGE};
use crate::auth::session::SessionAdmin;
use crate::error::AppError;
use crate::store::{write_tx, NewAudit, Store, StoreError};
use crate::time::now_ms;

pub const ADDED: &str = "added note";
pub const EDITED: &str = "edited note";
pub const DELETED: &str = "deleted note";

async fn check_user(store: &Store, app_id: i64, user_id: i64) -> Result<(), AppError> {
    match store.user_by_id(app_id, user_id).await? {
        Some(_) => Ok(()),
        None => Err(AppError::NotFound("This user does not exist in this app.".into())),
    }
}

fn check_body(body: &str) -> Result<(), AppError> {
    match note_problem(body) {
        Some(problem) => Err(AppError::invalid("body", problem)),
        None => Ok(()),
    }
}

fn note_gone() -> AppError {
    AppError::NotFound("This note does not exist any more (someone deleted it).".into())
}

/// A page of the user's notes, newest first, below the note `before`.
pub async fn notes(store: &Store, app_id: i64, user_id: i64, before: Option<i64>) -> Result<Vec<Note>, AppError> {
    check_user(store, app_id, user_id).await?;
    Ok(store.notes_of(user_id, before, NOTES_PAGE).await?)
}

/// The admin writes a note on the user; the new note.
pub async fn add(store: &Store, app_id: i64, user_id: i64, body: &str, admin: &SessionAdmin) -> Result<Note, AppError> {
    check_body(body)?;
    check_user(store, app_id, user_id).await?;
    let now = now_ms();
    let note = write_tx!(store, |tx| {
        let note = tx.add_note(app_id, user_id, (admin.id, &admin.email), body, now).await?;
        let detail = format!("note {}", note.id);
        tx.record_audit(&NewAudit::on_user(app_id, user_id, &admin.email, ADDED).with_detail(&detail), now).await?;
        Ok(note)
    })
    .map_err(|error| match error {
        // The user was deleted meanwhile (its foreign key).
        StoreError::Db(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
            AppError::NotFound("This user does not exist in this app.".into())
        }
        other => other.into(),
    })?;
    Ok(note)
}

/// The note's author replaces its text; the audit keeps the text before.
pub async fn edit(
    store: &Store,
    app_id: i64,
    user_id: i64,
    note_id: i64,
    body: &str,
    admin: &SessionAdmin,
) -> Result<(), AppError> {
    check_body(body)?;
    let now = now_ms();
    write_tx!(store, |tx| {
        let Some(note) = tx.note_for_change(app_id, user_id, note_id).await? else { return Ok(Err(note_gone())) };
        if note.author_id != admin.id {
            return Ok(Err(AppError::Forbidden));
        }
        if note.body == body {
            return Ok(Ok(()));
        }
        tx.edit_note(&note, app_id, body, now).await?;
        let audit = NewAudit::on_user(app_id, user_id, &admin.email, EDITED).with_detail(&note.body);
        tx.record_audit(&audit, now).await?;
        Ok(Ok(()))
    })?
}

/// An admin deletes a note (anyone's); the audit keeps its text.
pub async fn delete(
    store: &Store,
    app_id: i64,
    user_id: i64,
    note_id: i64,
    admin: &SessionAdmin,
) -> Result<(), AppError> {
    let now = now_ms();
    write_tx!(store, |tx| {
        let Some(note) = tx.note_for_change(app_id, user_id, note_id).await? else { return Ok(Err(note_gone())) };
        tx.delete_note(&note, app_id).await?;
        let detail = format!("by {}: {}", note.author, note.body);
        tx.record_audit(&NewAudit::on_user(app_id, user_id, &admin.email, DELETED).with_detail(&detail), now).await?;
        Ok(Ok(()))
    })?
}
