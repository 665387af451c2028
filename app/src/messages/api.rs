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
