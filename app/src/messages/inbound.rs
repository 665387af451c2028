//! Inbound Push Mail: a raw RFC 5322 message for a Push Mail address becomes
//! a private message of that address's user. MIME is parsed by mail-parser.

use mail_parser::{HeaderValue, MessageParser, MimeHeaders};

use crate::model::Attachment;
use crate::store::{write_tx, NewAudit, NewMessage, Store, StoreError};
use crate::time::now_ms;

pub const SOURCE: &str = "push mail";
/// Largest accepted message (SMTP answers 552 above it).
pub const MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;
const MAX_TITLE_CHARS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    #[error("no such Push Mail address")]
    UnknownRecipient,
    #[error("the message could not be parsed as RFC 5322 mail")]
    Unparseable,
    #[error("the message is larger than {} MiB", MAX_MESSAGE_BYTES / 1024 / 1024)]
    TooLarge,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The token of a Push Mail address on `domain` (`<token>@<domain>`, any case).
pub fn token_of<'a>(address: &'a str, domain: &str) -> Option<&'a str> {
    let address = address.trim().trim_start_matches('<').trim_end_matches('>');
    let (local, host) = address.rsplit_once('@')?;
    (host.eq_ignore_ascii_case(domain) && !local.is_empty()).then_some(local)
}

/// Addresses of the message's recipient headers (Delivered-To, To, Cc).
pub fn header_recipients(raw: &[u8]) -> Vec<String> {
    let Some(message) = MessageParser::default().parse_headers(raw) else { return Vec::new() };
    [message.header("Delivered-To"), message.header("To"), message.header("Cc")]
        .into_iter()
        .flatten()
        .flat_map(|value| match value {
            HeaderValue::Address(address) => address.iter().filter_map(|a| a.address().map(str::to_string)).collect(),
            HeaderValue::Text(text) => vec![text.to_string()],
            _ => Vec::new(),
        })
        .collect()
}

/// The user a recipient address belongs to, as (app id, user id).
pub async fn recipient(store: &Store, address: &str, domain: &str) -> Result<(i64, i64), InboundError> {
    let token = token_of(address, domain).ok_or(InboundError::UnknownRecipient)?;
    store.user_by_push_token(&token.to_ascii_lowercase()).await?.ok_or(InboundError::UnknownRecipient)
}

/// Stores `raw` as a private message for `(app_id, user_id)`; returns its id.
pub async fn deliver(store: &Store, (app_id, user_id): (i64, i64), raw: &[u8]) -> Result<i64, InboundError> {
    if raw.len() > MAX_MESSAGE_BYTES {
        return Err(InboundError::TooLarge);
    }
    let parsed = MessageParser::default().parse(raw).ok_or(InboundError::Unparseable)?;
    if parsed.headers().is_empty() {
        return Err(InboundError::Unparseable);
    }
    let title: String = parsed
        .subject()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("(no subject)")
        .chars()
        .take(MAX_TITLE_CHARS)
        .collect();
    // text/plain, or the HTML part converted to text.
    let body = parsed.body_text(0).map(|b| b.trim().to_string()).unwrap_or_default();
    let sender = parsed
        .from()
        .and_then(|from| from.first())
        .map(|addr| match (addr.name(), addr.address()) {
            (Some(name), Some(email)) => format!("{name} <{email}>"),
            (None, Some(email)) => email.to_string(),
            (Some(name), None) => name.to_string(),
            (None, None) => "unknown sender".into(),
        })
        .unwrap_or_else(|| "unknown sender".into());
    let attachments: Vec<Attachment> = parsed
        .attachments()
        .map(|part| Attachment {
            name: part.attachment_name().unwrap_or("unnamed").to_string(),
            size: part.contents().len() as u64,
        })
        .collect();
    let message = NewMessage {
        title: &title,
        body: &body,
        source: SOURCE,
        sender: &sender,
        created_at: now_ms(),
        attachments: &attachments,
    };
    let audit = NewAudit {
        app_id: Some(app_id),
        actor: &sender,
        action: "push mail received",
        user_id: Some(user_id),
        detail: &title,
    };
    // The message and its audit entry are written together or not at all.
    let id = write_tx!(store, |tx| {
        let id = tx.insert_message(app_id, user_id, &message).await?;
        tx.record_audit(&audit, message.created_at).await?;
        Ok(id)
    })?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::token_of;

    #[test]
    fn tokens_come_from_addresses_on_the_domain() {
        assert_eq!(token_of("<abc123@Push.Example>", "push.example"), Some("abc123"));
        assert_eq!(token_of("abc123@push.example", "push.example"), Some("abc123"));
        assert_eq!(token_of("abc123@other.example", "push.example"), None);
        assert_eq!(token_of("@push.example", "push.example"), None);
        assert_eq!(token_of("nonsense", "push.example"), None);
    }
}
