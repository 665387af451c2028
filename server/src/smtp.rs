//! The receive side of SMTP (RFC 5321) for Push Mail: accepts RCPT TO only
//! for live Push Mail addresses and turns each message into a private
//! message. No relaying, no AUTH: it only takes mail for its own domain.

use std::time::Duration;

use std::net::IpAddr;
use std::sync::Arc;

use app::limits::RateLimits;
use app::messages::inbound::{self, InboundError, MAX_MESSAGE_BYTES};
use app::store::Store;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const MAX_LINE: usize = 4096;
const MAX_RECIPIENTS: usize = 100;
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// What an SMTP conversation needs from the server.
#[derive(Clone)]
pub struct Smtp {
    pub store: Store,
    pub domain: String,
    pub limits: Arc<RateLimits>,
    /// Told of each stored message, so open profiles show it at once.
    pub live: app::live::LiveHub,
}

pub async fn serve(listener: TcpListener, smtp: Smtp) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let smtp = smtp.clone();
                tokio::spawn(async move {
                    if let Err(err) = session(stream, &smtp, peer.ip()).await {
                        tracing::debug!(%peer, error = %err, "smtp session ended");
                    }
                });
            }
            Err(err) => {
                tracing::warn!(error = %err, "smtp accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// The address inside `FROM:<…>` / `TO:<…>` (parameters after it ignored).
fn path_argument(rest: &str) -> Option<&str> {
    let rest = rest.trim_start();
    let start = rest.find('<')?;
    let end = rest[start..].find('>')? + start;
    Some(&rest[start + 1..end])
}

/// The SIZE=n parameter of MAIL FROM, if any.
fn declared_size(rest: &str) -> Option<usize> {
    rest.split_whitespace().find_map(|p| p.to_ascii_uppercase().strip_prefix("SIZE=").and_then(|n| n.parse().ok()))
}

/// One SMTP conversation over any byte stream, with the client at `peer`.
pub async fn session<S: AsyncRead + AsyncWrite + Unpin>(stream: S, smtp: &Smtp, peer: IpAddr) -> std::io::Result<()> {
    let (store, domain) = (&smtp.store, smtp.domain.as_str());
    metrics::counter!(app::metrics::SMTP_SESSIONS).increment(1);
    let (reader, mut writer) = tokio::io::split(stream);
    let mut reader = BufReader::new(reader);
    writer.write_all(format!("220 {domain} Audience Push Mail ESMTP ready\r\n").as_bytes()).await?;

    let mut mail_from: Option<String> = None;
    // Push Mail tokens accepted at RCPT; resolved again when the data is delivered.
    let mut recipients: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = tokio::time::timeout(IDLE_TIMEOUT, read_line_limited(&mut reader, &mut line)).await;
        let read = match read {
            Err(_) => {
                writer.write_all(b"421 4.4.2 idle too long, closing\r\n").await?;
                return Ok(());
            }
            Ok(result) => result?,
        };
        if read == 0 {
            return Ok(());
        }
        if !line.ends_with(b"\n") {
            writer.write_all(b"500 5.5.2 line too long\r\n").await?;
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end();
        let verb = text.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        let rest = text.get(verb.len()..).unwrap_or("");
        let answer: String = match verb.as_str() {
            "EHLO" => {
                mail_from = None;
                recipients.clear();
                format!("250-{domain}\r\n250-SIZE {MAX_MESSAGE_BYTES}\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES")
            }
            "HELO" => {
                mail_from = None;
                recipients.clear();
                format!("250 {domain}")
            }
            "MAIL" => match rest.trim_start().get(..5).map(str::to_ascii_uppercase).as_deref() {
                Some("FROM:") => match path_argument(&rest.trim_start()[5..]) {
                    _ if declared_size(rest).is_some_and(|n| n > MAX_MESSAGE_BYTES) => {
                        "552 5.3.4 message size exceeds fixed maximum message size".into()
                    }
                    Some(_) if smtp.limits.check_smtp_client(peer).is_err() => {
                        "450 4.7.1 too many messages from your address, try again later".into()
                    }
                    Some(from) => {
                        mail_from = Some(from.to_string());
                        recipients.clear();
                        "250 2.1.0 OK".into()
                    }
                    None => "501 5.5.4 syntax: MAIL FROM:<address>".into(),
                },
                _ => "501 5.5.4 syntax: MAIL FROM:<address>".into(),
            },
            "RCPT" => match (mail_from.is_some(), rest.trim_start().get(..3).map(str::to_ascii_uppercase).as_deref()) {
                (false, _) => "503 5.5.1 MAIL first".into(),
                (true, Some("TO:")) => match path_argument(&rest.trim_start()[3..]) {
                    None => "501 5.5.4 syntax: RCPT TO:<address>".into(),
                    Some(_) if recipients.len() >= MAX_RECIPIENTS => "452 4.5.3 too many recipients".into(),
                    Some(address) => match inbound::recipient(store, address, domain).await {
                        Ok(_) if recipients.iter().any(|t| inbound::token_of(address, domain).as_ref() == Some(t)) => {
                            "250 2.1.5 OK".into()
                        }
                        Ok(user) if smtp.limits.check_smtp_recipient(user).is_err() => {
                            "450 4.7.1 too many messages for this address, try again later".into()
                        }
                        Ok(_) => {
                            recipients.extend(inbound::token_of(address, domain));
                            "250 2.1.5 OK".into()
                        }
                        Err(InboundError::UnknownRecipient) => "550 5.1.1 no such mailbox".into(),
                        Err(err) => {
                            tracing::error!(error = %err, "smtp recipient lookup");
                            "451 4.3.0 temporary failure, try again later".into()
                        }
                    },
                },
                _ => "501 5.5.4 syntax: RCPT TO:<address>".into(),
            },
            "DATA" if recipients.is_empty() => "554 5.5.1 no valid recipients".into(),
            "DATA" => {
                writer.write_all(b"354 end data with <CR><LF>.<CR><LF>\r\n").await?;
                let answer = match read_data(&mut reader).await? {
                    None => "552 5.3.4 message size exceeds fixed maximum message size".to_string(),
                    Some(message) => deliver(smtp, &recipients, &message, mail_from.as_deref()).await,
                };
                let outcome = if answer.starts_with("250") { "accepted" } else { "refused" };
                metrics::counter!(app::metrics::SMTP_MESSAGES, "outcome" => outcome).increment(1);
                mail_from = None;
                recipients.clear();
                answer
            }
            "RSET" => {
                mail_from = None;
                recipients.clear();
                "250 2.0.0 OK".into()
            }
            "NOOP" => "250 2.0.0 OK".into(),
            "VRFY" => "252 2.5.0 cannot verify, send some mail".into(),
            "QUIT" => {
                writer.write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            _ => "500 5.5.2 command not recognized".into(),
        };
        writer.write_all(format!("{answer}\r\n").as_bytes()).await?;
    }
}

/// Reads one command line of at most MAX_LINE bytes (a longer one comes back
/// without its newline).
async fn read_line_limited<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    line: &mut Vec<u8>,
) -> std::io::Result<usize> {
    use tokio::io::AsyncReadExt;
    reader.take(MAX_LINE as u64).read_until(b'\n', line).await
}

/// Reads the message after DATA up to `<CRLF>.<CRLF>`, undoing
/// dot-stuffing. Only that sequence ends the data: a `.` line after a bare
/// LF is content (else one DATA could smuggle a second message with a forged
/// sender past a server that reads the stream differently), and bare LFs are
/// stored as CRLF. `None` when it exceeds the size limit (the rest is read
/// and dropped).
async fn read_data<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> std::io::Result<Option<Vec<u8>>> {
    let mut message = Vec::new();
    let mut too_large = false;
    let mut line = Vec::new();
    // The DATA command's own CRLF precedes the first line.
    let mut after_crlf = true;
    loop {
        line.clear();
        // Bounded, so one endless line cannot exhaust memory.
        let mut bounded = tokio::io::AsyncReadExt::take(&mut *reader, (MAX_MESSAGE_BYTES + MAX_LINE) as u64);
        let read = tokio::time::timeout(IDLE_TIMEOUT, bounded.read_until(b'\n', &mut line))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "DATA idle"))??;
        if read == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed in DATA"));
        }
        if after_crlf && line == b".\r\n" {
            return Ok((!too_large).then_some(message));
        }
        let ends_crlf = line.ends_with(b"\r\n");
        if line.ends_with(b"\n") && !ends_crlf {
            line.pop();
            line.extend_from_slice(b"\r\n");
        }
        let content = if after_crlf && line.starts_with(b"..") { &line[1..] } else { &line[..] };
        if message.len() + content.len() > MAX_MESSAGE_BYTES {
            too_large = true;
            message.clear();
        }
        if !too_large {
            message.extend_from_slice(content);
        }
        after_crlf = ends_crlf;
    }
}

/// Delivers one message to every accepted recipient in one transaction, so
/// the answer is true for all of them: 250 stored for each still-live
/// address, or an error and nothing stored (a retry cannot duplicate).
async fn deliver(smtp: &Smtp, tokens: &[String], message: &[u8], envelope_from: Option<&str>) -> String {
    match inbound::deliver(&smtp.store, tokens, message, envelope_from).await {
        Ok(stored) => {
            for message in stored {
                smtp.live.changed(::app::model::profile::BoxChanged::Messages, message.app_id, message.user_id);
            }
            "250 2.0.0 OK: delivered".into()
        }
        Err(InboundError::UnknownRecipient) => "550 5.1.1 no such mailbox (revoked)".into(),
        Err(InboundError::Unparseable) => "554 5.6.0 message could not be parsed".into(),
        Err(InboundError::TooLarge) => "552 5.3.4 message too large".into(),
        Err(err) => {
            tracing::error!(error = %err, "smtp delivery");
            "451 4.3.0 temporary failure, try again later".into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paths_and_sizes() {
        assert_eq!(path_argument("<a@b.c> SIZE=10"), Some("a@b.c"));
        assert_eq!(path_argument(" <>"), Some(""));
        assert_eq!(path_argument("a@b.c"), None);
        assert_eq!(declared_size("<a@b.c> size=2048 BODY=8BITMIME"), Some(2048));
        assert_eq!(declared_size("<a@b.c>"), None);
    }
}
