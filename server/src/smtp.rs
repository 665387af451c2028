//! The receive side of SMTP (RFC 5321) for Push Mail: accepts RCPT TO only
//! for live Push Mail addresses and turns each message into a private
//! message. No relaying, no AUTH: it only takes mail for its own domain.

use std::time::Duration;

use app::messages::inbound::{self, InboundError, MAX_MESSAGE_BYTES};
use app::store::Store;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const MAX_LINE: usize = 4096;
const MAX_RECIPIENTS: usize = 100;
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

pub async fn serve(listener: TcpListener, store: Store, domain: String) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let (store, domain) = (store.clone(), domain.clone());
                tokio::spawn(async move {
                    if let Err(err) = session(stream, &store, &domain).await {
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

/// One SMTP conversation over any byte stream.
pub async fn session<S: AsyncRead + AsyncWrite + Unpin>(stream: S, store: &Store, domain: &str) -> std::io::Result<()> {
    let (reader, mut writer) = tokio::io::split(stream);
    let mut reader = BufReader::new(reader);
    writer.write_all(format!("220 {domain} Audience Push Mail ESMTP ready\r\n").as_bytes()).await?;

    let mut mail_from: Option<String> = None;
    let mut recipients: Vec<(i64, i64)> = Vec::new();
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
                        Ok(user) => {
                            if !recipients.contains(&user) {
                                recipients.push(user);
                            }
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
                    Some(message) => deliver_all(store, &recipients, &message).await,
                };
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

/// Reads the message after DATA up to the lone ".", undoing dot-stuffing.
/// `None` when it exceeds the size limit (the rest is read and dropped).
async fn read_data<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> std::io::Result<Option<Vec<u8>>> {
    let mut message = Vec::new();
    let mut too_large = false;
    let mut line = Vec::new();
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
        if line == b".\r\n" || line == b".\n" {
            return Ok((!too_large).then_some(message));
        }
        let content = if line.starts_with(b"..") { &line[1..] } else { &line[..] };
        if message.len() + content.len() > MAX_MESSAGE_BYTES {
            too_large = true;
            message.clear();
        }
        if !too_large {
            message.extend_from_slice(content);
        }
    }
}

async fn deliver_all(store: &Store, recipients: &[(i64, i64)], message: &[u8]) -> String {
    for recipient in recipients {
        match inbound::deliver(store, *recipient, message).await {
            Ok(_) => {}
            Err(InboundError::Unparseable) => return "554 5.6.0 message could not be parsed".into(),
            Err(InboundError::TooLarge) => return "552 5.3.4 message too large".into(),
            Err(err) => {
                tracing::error!(error = %err, "smtp delivery");
                return "451 4.3.0 temporary failure, try again later".into();
            }
        }
    }
    "250 2.0.0 OK: delivered".into()
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
