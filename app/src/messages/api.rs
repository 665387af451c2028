//! Server functions of the messages feature: session check, then one service call.

use leptos::prelude::*;

use super::model::MessagesPage;
use crate::error::AppError;

/// The newest `limit` of the user's private messages, newest first.
#[server(endpoint = "messages/list", output = crate::codec::Json)]
pub async fn list_messages(user_id: i64, limit: i64) -> Result<MessagesPage, AppError> {
    use crate::auth::session::{fail, Caller};
    let caller = Caller::viewer().await?;
    let page = super::service::list(&caller.state.store, caller.app.id, user_id, limit).await.or_else(fail)?;
    caller.viewed(user_id, crate::model::profile::Viewed::Messages).await.or_else(fail)?;
    Ok(page)
}

/// The whole body of one message (the list carries a preview).
#[server(endpoint = "messages/body", output = crate::codec::Json)]
pub async fn message_body(user_id: i64, message_id: i64) -> Result<String, AppError> {
    use crate::auth::session::{fail, Caller};
    let caller = Caller::viewer().await?;
    let body = super::service::body(&caller.state.store, caller.app.id, user_id, message_id).await.or_else(fail)?;
    caller.viewed(user_id, crate::model::profile::Viewed::Messages).await.or_else(fail)?;
    Ok(body)
}

/// Sends a private message from the console to the user's devices (source
/// "dashboard", the admin as sender, audited). Admins only.
#[server(endpoint = "messages/send", output = crate::codec::Json)]
pub async fn send_message(user_id: i64, title: String, body: String) -> Result<i64, AppError> {
    use crate::auth::session::{fail, Caller};
    let Caller { state, app, account: admin } = Caller::admin().await?;
    let id = super::service::send(&state.store, app.id, user_id, &title, &body, "dashboard", &admin.email)
        .await
        .or_else(fail)?;
    state.live.changed(crate::model::profile::BoxChanged::Messages, app.id, user_id);
    Ok(id)
}
