//! Notes on a user: read newest first a page at a time, written in the
//! caller's transaction (with its audit row and the live channel's notice).

use futures::stream::{StreamExt, TryStreamExt};

use super::export::Rows;
use super::{with_pool, with_tx, Store, StoreError, StoreResult, WriteTx};
use crate::model::notes::Note;
use crate::model::profile::BoxChanged;

macro_rules! note_columns {
    () => {
        "id, user_id, author_id, author, body, created_at, updated_at"
    };
}
const COLUMNS: &str = note_columns!();

impl Store {
    /// The user's notes, newest first: up to `limit` with ids below
    /// `before` (the next page starts below the last one shown).
    pub async fn notes_of(&self, user_id: i64, before: Option<i64>, limit: i64) -> StoreResult<Vec<Note>> {
        let sql = format!("SELECT {COLUMNS} FROM notes WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3");
        with_pool!(self, |pool| Ok(sqlx::query_as::<_, Note>(&sql)
            .bind(user_id)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    /// The user's notes, oldest first (the JSON export).
    pub fn export_notes(&self, user_id: i64) -> Rows<'_, Note> {
        const SQL: &str = concat!("SELECT ", note_columns!(), " FROM notes WHERE user_id = $1 ORDER BY id");
        with_pool!(self, |pool| sqlx::query_as(SQL).bind(user_id).fetch(pool).map_err(StoreError::from).boxed())
    }
}

impl WriteTx {
    /// The note `id` of the app's user `user_id`, locked for the change
    /// that follows (PostgreSQL; SQLite's writer is alone).
    pub async fn note_for_change(&mut self, app_id: i64, user_id: i64, id: i64) -> StoreResult<Option<Note>> {
        let lock = if self.is_postgres() { " FOR UPDATE" } else { "" };
        let sql = format!("SELECT {COLUMNS} FROM notes WHERE id = $1 AND app_id = $2 AND user_id = $3{lock}");
        Ok(with_tx!(self, |conn| sqlx::query_as::<_, Note>(&sql)
            .bind(id)
            .bind(app_id)
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await)?)
    }

    /// Adds a note by the account `author_id` (`author`, its email); the
    /// new note. Every open copy of the profile hears of it at commit.
    pub async fn add_note(
        &mut self,
        app_id: i64,
        user_id: i64,
        (author_id, author): (i64, &str),
        body: &str,
        now: i64,
    ) -> StoreResult<Note> {
        let sql = format!(
            "INSERT INTO notes (app_id, user_id, author_id, author, body, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {COLUMNS}"
        );
        let note = with_tx!(self, |conn| sqlx::query_as::<_, Note>(&sql)
            .bind(app_id)
            .bind(user_id)
            .bind(author_id)
            .bind(author)
            .bind(body)
            .bind(now)
            .fetch_one(&mut *conn)
            .await)?;
        self.notify_changed(BoxChanged::Notes, app_id, user_id).await?;
        Ok(note)
    }

    /// Replaces a note's text.
    pub async fn edit_note(&mut self, note: &Note, app_id: i64, body: &str, now: i64) -> StoreResult<()> {
        let sql = "UPDATE notes SET body = $1, updated_at = $2 WHERE id = $3";
        with_tx!(self, |conn| sqlx::query(sql)
            .bind(body)
            .bind(now)
            .bind(note.id)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
        self.notify_changed(BoxChanged::Notes, app_id, note.user_id).await
    }

    /// Deletes a note.
    pub async fn delete_note(&mut self, note: &Note, app_id: i64) -> StoreResult<()> {
        let sql = "DELETE FROM notes WHERE id = $1";
        with_tx!(self, |conn| sqlx::query(sql).bind(note.id).execute(&mut *conn).await.map(|_| ()))?;
        self.notify_changed(BoxChanged::Notes, app_id, note.user_id).await
    }
}
