//! Server functions of the messages feature.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::MessageSummary;

/// How many messages the box shows (paging comes with the messages feature).
pub const MESSAGES_SHOWN: i64 = 50;

/// The user's private messages, newest first.
#[server(endpoint = "messages/list")]
pub async fn list_messages(user_id: i64) -> Result<Vec<MessageSummary>, AppError> {
    use crate::auth::session::{current_app, fail, signed_in};
    let state = expect_context::<crate::state::AppState>();
    signed_in().await?;
    let app = current_app(&state).await?;
    if state.store.user_by_id(app.id, user_id).await?.is_none() {
        return fail(AppError::NotFound("This user does not exist in this app.".into()));
    }
    Ok(state.store.list_messages(app.id, user_id, MESSAGES_SHOWN).await?)
}

/// The whole body of one message (the list carries a preview).
#[server(endpoint = "messages/body")]
pub async fn message_body(user_id: i64, message_id: i64) -> Result<String, AppError> {
    use crate::auth::session::{current_app, signed_in};
    let state = expect_context::<crate::state::AppState>();
    signed_in().await?;
    let app = current_app(&state).await?;
    match state.store.message_body(app.id, user_id, message_id).await? {
        Some(body) => Ok(body),
        None => Err(AppError::NotFound("This message does not exist.".into())),
    }
}
