//! Inbound Push Mail: a raw RFC 5322 message for a Push Mail address becomes
//! a private message of that address's user. MIME is parsed by mail-parser.
//!
//! Everything in a mail is the sender's word: the subject and From name are
//! cut to one clean line (no CR/LF, NUL, escape or bidi characters), and the
//! SMTP envelope sender is stored apart from the From header's display name.

use mail_parser::{HeaderValue, MessageParser, MimeHeaders};

use crate::model::Attachment;
use crate::store::{NewMessage, Store, StoreError, StoredMessage};
use crate::text::{multi_line, single_line};
use crate::time::now_ms;

pub const SOURCE: &str = "push mail";
/// Largest accepted message (SMTP answers 552 above it).
pub const MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;
const MAX_TITLE_CHARS: usize = 200;
const MAX_SENDER_CHARS: usize = 320;

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

/// A parsed mail, cleaned, ready to store for any number of recipients.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundMail {
    pub title: String,
    pub body: String,
    /// The From header: "Name <address>", the address, or "unknown sender".
    pub sender: String,
    pub attachments: Vec<Attachment>,
}

/// The token of a Push Mail address on `domain` (`<token>@<domain>`, any case), lower-cased.
pub fn token_of(address: &str, domain: &str) -> Option<String> {
    let address = address.trim().trim_start_matches('<').trim_end_matches('>');
    let (local, host) = address.rsplit_once('@')?;
    // Tokens are hex; anything else (NUL, markup, overlong) is no token and
    // never reaches the database.
    let token_shaped = !local.is_empty() && local.len() <= 64 && local.bytes().all(|b| b.is_ascii_alphanumeric());
    (host.eq_ignore_ascii_case(domain) && token_shaped).then(|| local.to_ascii_lowercase())
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

/// The user a recipient address belongs to, as (app id, user id): the check
/// at RCPT time. Delivery checks the token again ([`deliver`]).
pub async fn recipient(store: &Store, address: &str, domain: &str) -> Result<(i64, i64), InboundError> {
    let token = token_of(address, domain).ok_or(InboundError::UnknownRecipient)?;
    store.user_by_push_token(&token).await?.ok_or(InboundError::UnknownRecipient)
}

/// Parses and cleans a raw message.
pub fn parse(raw: &[u8]) -> Result<InboundMail, InboundError> {
    if raw.len() > MAX_MESSAGE_BYTES {
        return Err(InboundError::TooLarge);
    }
    let parsed = MessageParser::default().parse(raw).ok_or(InboundError::Unparseable)?;
    if parsed.headers().is_empty() {
        return Err(InboundError::Unparseable);
    }
    let title = Some(single_line(parsed.subject().unwrap_or(""), MAX_TITLE_CHARS))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "(no subject)".into());
    // text/plain, or the HTML part converted to text.
    let body = multi_line(parsed.body_text(0).as_deref().unwrap_or("").trim());
    let clean = |text: &str| single_line(text, MAX_SENDER_CHARS);
    let sender = parsed
        .from()
        .and_then(|from| from.first())
        .map(|addr| match (addr.name().map(clean).filter(|n| !n.is_empty()), addr.address().map(clean)) {
            (Some(name), Some(email)) => format!("{name} <{email}>"),
            (None, Some(email)) => email,
            (Some(name), None) => name,
            (None, None) => String::new(),
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown sender".into());
    let attachments: Vec<Attachment> = parsed
        .attachments()
        .map(|part| Attachment {
            name: single_line(part.attachment_name().unwrap_or("unnamed"), 255),
            size: part.contents().len() as u64,
        })
        .collect();
    Ok(InboundMail { title, body, sender, attachments })
}

/// Stores `raw` as a private message for the users of `tokens` that are
/// still live, each with its audit row, in one transaction. The tokens are
/// resolved again inside it, so an address revoked after RCPT gets nothing.
/// `envelope_from` is the SMTP `MAIL FROM` (None for the webhook). Returns
/// the stored messages; none live is [`InboundError::UnknownRecipient`].
pub async fn deliver(
    store: &Store,
    tokens: &[String],
    raw: &[u8],
    envelope_from: Option<&str>,
) -> Result<Vec<StoredMessage>, InboundError> {
    let mail = parse(raw)?;
    let envelope = envelope_from.map(|e| single_line(e, MAX_SENDER_CHARS));
    let message = NewMessage {
        title: &mail.title,
        body: &mail.body,
        source: SOURCE,
        sender: &mail.sender,
        envelope_sender: envelope.as_deref(),
        created_at: now_ms(),
        attachments: &mail.attachments,
    };
    let ids = store.deliver_push_mail(tokens, &message).await?;
    if ids.is_empty() {
        return Err(InboundError::UnknownRecipient);
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_come_from_addresses_on_the_domain() {
        assert_eq!(token_of("<ABC123@Push.Example>", "push.example").as_deref(), Some("abc123"));
        assert_eq!(token_of("abc123@push.example", "push.example").as_deref(), Some("abc123"));
        assert_eq!(token_of("abc123@other.example", "push.example"), None);
        assert_eq!(token_of("@push.example", "push.example"), None);
        assert_eq!(token_of("nonsense", "push.example"), None);
        for hostile in [
            "a\u{0}b@push.example",
            "<script>@push.example",
            "a'b@push.example",
            &format!("{}@push.example", "a".repeat(65)),
        ] {
            assert_eq!(token_of(hostile, "push.example"), None, "{hostile}");
        }
    }

    #[test]
    fn headers_are_cleaned_to_one_line() {
        let raw = b"From: =?utf-8?q?Admin=0D=0AX-Injected:_yes=07?= <a@example.com>\r\n\
Subject: =?utf-8?q?Hello=0D=0AInjected=00=1B[31m?=\r\n\r\nBody\r\n";
        let mail = parse(raw).unwrap();
        assert_eq!(mail.title, "Hello Injected[31m");
        assert_eq!(mail.sender, "Admin X-Injected: yes <a@example.com>");
        assert!(!mail.title.chars().chain(mail.sender.chars()).any(char::is_control));
    }
}
