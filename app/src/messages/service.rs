//! Private messages, as plain async functions over the store (the server
//! functions and the ingest API wrap these; tests call them directly).

use super::model::{MessagesPage, MAX_MESSAGES_SHOWN};
use super::model::{MAX_BODY_CHARS, MAX_TITLE_CHARS};
use crate::error::AppError;
use crate::store::{write_tx, Arrived, NewAudit, NewMessage, Recipient, Store};
use crate::text::{multi_line, single_line};
use crate::time::now_ms;

/// Messages a device's inbox answers with at most.
pub const INBOX_LIMIT: i64 = 100;

fn no_user() -> AppError {
    AppError::NotFound("This user does not exist in this app.".into())
}

/// The newest `limit` (1 to [`MAX_MESSAGES_SHOWN`]) of the user's private
/// messages, newest first, with body previews and per-device deliveries,
/// and whether older ones exist.
pub async fn list(store: &Store, app_id: i64, user_id: i64, limit: i64) -> Result<MessagesPage, AppError> {
    let limit = limit.clamp(1, MAX_MESSAGES_SHOWN);
    store.user_by_id(app_id, user_id).await?.ok_or_else(no_user)?;
    // One more than asked tells whether there are more.
    let mut messages = store.list_messages(app_id, user_id, limit + 1).await?;
    let more = messages.len() as i64 > limit;
    messages.truncate(limit as usize);
    Ok(MessagesPage { messages, more })
}

/// The whole body of one of the user's messages.
pub async fn body(store: &Store, app_id: i64, user_id: i64, message_id: i64) -> Result<String, AppError> {
    store
        .message_body(app_id, user_id, message_id)
        .await?
        .ok_or_else(|| AppError::NotFound("This message does not exist.".into()))
}

/// A title and body as a sender gave them, checked: both required, the
/// title one line of at most [`MAX_TITLE_CHARS`], the body at most
/// [`MAX_BODY_CHARS`].
pub fn check_message(title: &str, body: &str) -> Result<(String, String), AppError> {
    // One character past the limit is enough to tell it is too long.
    let title = single_line(title, MAX_TITLE_CHARS + 1);
    let body = multi_line(body);
    if title.trim().is_empty() {
        return Err(AppError::invalid("title", "Give the message a title."));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(AppError::invalid("title", format!("A title has at most {MAX_TITLE_CHARS} characters.")));
    }
    if body.trim().is_empty() {
        return Err(AppError::invalid("body", "Write the message's text."));
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(AppError::invalid("body", format!("A message has at most {MAX_BODY_CHARS} characters.")));
    }
    Ok((title.trim().to_string(), body))
}

/// Sends a private message to an active user: stored, queued for each of
/// the user's devices and audited, in one transaction. `source` is
/// "dashboard" or "api"; `sender` the admin's email or "api". Returns the
/// message's id; the caller tells the live channel.
pub async fn send(
    store: &Store,
    app_id: i64,
    user_id: i64,
    title: &str,
    body: &str,
    source: &str,
    sender: &str,
) -> Result<i64, AppError> {
    let from = Origin { source, sender };
    Ok(send_to(store, app_id, Recipient::Row(user_id), title, body, from).await?.message_id)
}

/// Where a message comes from.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub source: &'a str,
    pub sender: &'a str,
}

/// A message sent, and to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub message_id: i64,
    pub user_id: i64,
    pub external_id: String,
}

/// [`send`] to the user `to` names. The user is resolved in the message's
/// transaction: sent to a merged userID, the message is noted there, so an
/// undo of the merge hands it back, and an undo committed before it sends
/// it to the restored user.
pub async fn send_to(
    store: &Store,
    app_id: i64,
    to: Recipient<'_>,
    title: &str,
    body: &str,
    from: Origin<'_>,
) -> Result<Sent, AppError> {
    let (title, body) = check_message(title, body)?;
    let now = now_ms();
    let message = NewMessage {
        title: &title,
        body: &body,
        source: from.source,
        sender: from.sender,
        envelope_sender: None,
        created_at: now,
        attachments: &[],
    };
    let detail = format!("\"{title}\"");
    write_tx!(store, |tx| {
        let Some(user) = tx.addressee(app_id, to).await? else {
            return Ok(Err(no_user()));
        };
        if !user.active {
            return Ok(Err(AppError::NotFound("This user is deactivated; reactivate it to send messages.".into())));
        }
        let id = tx.insert_message(app_id, user.id, &message).await?;
        let audit = NewAudit::on_user(app_id, user.id, from.sender, "sent private message").with_detail(&detail);
        tx.record_audit(&audit, now).await?;
        if let (Recipient::UserId(alias), true) = (to, user.through_alias) {
            tx.note_arrivals((app_id, user.id), alias, Arrived::Messages, &[id], now).await?;
        }
        Ok(Ok(Sent { message_id: id, user_id: user.id, external_id: user.external_id }))
    })?
}

#[cfg(test)]
mod tests {
    use super::check_message;

    #[test]
    fn a_title_is_stored_as_one_line_and_the_body_keeps_its_breaks() {
        let (title, body) = check_message("Order\r\nshipped", "Line one\nLine two").unwrap();
        assert_eq!(title, "Order shipped", "docs/API.md: stored as one line, whitespace folded");
        assert_eq!(body, "Line one\nLine two");
        assert!(check_message("\n\t", "x").is_err(), "a title of only breaks is empty");
    }
}
