//! Private messages, as plain async functions over the store (the server
//! functions wrap these; tests call them directly).

use crate::error::AppError;
use crate::model::MessageSummary;
use crate::store::Store;

/// How many messages the box shows (paging comes with the messages feature).
pub const MESSAGES_SHOWN: i64 = 50;

fn no_user() -> AppError {
    AppError::NotFound("This user does not exist in this app.".into())
}

/// The user's private messages, newest first, with body previews.
pub async fn list(store: &Store, app_id: i64, user_id: i64) -> Result<Vec<MessageSummary>, AppError> {
    store.user_by_id(app_id, user_id).await?.ok_or_else(no_user)?;
    Ok(store.list_messages(app_id, user_id, MESSAGES_SHOWN).await?)
}

/// The whole body of one of the user's messages.
pub async fn body(store: &Store, app_id: i64, user_id: i64, message_id: i64) -> Result<String, AppError> {
    store
        .message_body(app_id, user_id, message_id)
        .await?
        .ok_or_else(|| AppError::NotFound("This message does not exist.".into()))
}
