//! Notes: admins' plain-text words about a user, and the rules of their
//! text (the server's and the form's alike). Links in a note are shown as
//! links only when they are `http(s)://` URLs; everything else is text.

use serde::{Deserialize, Serialize};

/// Characters of a note at most.
pub const MAX_NOTE: usize = 5_000;
/// Notes one page of the Notes box lists.
pub const NOTES_PAGE: i64 = 20;

/// One note, as the Notes box shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Note {
    pub id: i64,
    pub user_id: i64,
    /// The account that wrote it (who may edit it).
    pub author_id: i64,
    /// The account's email when it was written.
    pub author: String,
    pub body: String,
    pub created_at: i64,
    /// Equal to `created_at` until the note is edited.
    pub updated_at: i64,
}

impl Note {
    pub fn edited(&self) -> bool {
        self.updated_at != self.created_at
    }
}

/// What is wrong with a note's text (`None`: fine). The text is stored as
/// typed, line breaks kept; only blank text is refused, and text longer
/// than [`MAX_NOTE`] characters.
pub fn note_problem(body: &str) -> Option<String> {
    let length = body.chars().count();
    if body.trim().is_empty() {
        Some("Write something first: the note is empty.".into())
    } else if length > MAX_NOTE {
        Some(format!("A note holds at most {MAX_NOTE} characters (this one has {length})."))
    } else if body.contains('\0') {
        Some("A note cannot hold the NUL character.".into())
    } else {
        None
    }
}

/// A run of a note's text: plain, or a web link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotePiece<'a> {
    Text(&'a str),
    Link(&'a str),
}

/// Splits a note into text and links. A link starts with `http://` or
/// `https://` and runs to the next whitespace; closing punctuation at its
/// end (a full stop, a comma, a closing bracket or quote) stays text.
pub fn note_pieces(body: &str) -> Vec<NotePiece<'_>> {
    let mut pieces = Vec::new();
    let mut rest = body;
    while let Some(start) = next_link(rest) {
        let tail = &rest[start..];
        let end = tail.find(char::is_whitespace).unwrap_or(tail.len());
        let link = tail[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '"', '\'', '>']);
        let scheme = if link.starts_with("https://") { 8 } else { 7 };
        if link.len() <= scheme {
            // A bare "https://": text.
            pieces.push(NotePiece::Text(&rest[..start + scheme]));
            rest = &rest[start + scheme..];
            continue;
        }
        if start > 0 {
            pieces.push(NotePiece::Text(&rest[..start]));
        }
        pieces.push(NotePiece::Link(link));
        rest = &tail[link.len()..];
    }
    if !rest.is_empty() {
        pieces.push(NotePiece::Text(rest));
    }
    pieces
}

/// Where the next `http://` or `https://` starts (case as typed).
fn next_link(text: &str) -> Option<usize> {
    let http = text.find("http://");
    let https = text.find("https://");
    match (http, https) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use NotePiece::{Link, Text};

    #[test]
    fn links_are_found_and_their_trailing_punctuation_left_out() {
        assert_eq!(note_pieces("plain"), vec![Text("plain")]);
        assert_eq!(
            note_pieces("see https://example.com/a?b=1. Then (http://x.org/y)"),
            vec![Text("see "), Link("https://example.com/a?b=1"), Text(". Then ("), Link("http://x.org/y"), Text(")")]
        );
        assert_eq!(note_pieces("https://"), vec![Text("https://")]);
        assert_eq!(note_pieces("javascript:alert(1) ftp://x"), vec![Text("javascript:alert(1) ftp://x")]);
        assert_eq!(note_pieces("a\nhttps://b.c\nd"), vec![Text("a\n"), Link("https://b.c"), Text("\nd")]);
    }

    #[test]
    fn blank_long_and_nul_notes_are_refused() {
        assert!(note_problem("  \n ").is_some());
        assert!(note_problem(&"é".repeat(MAX_NOTE)).is_none());
        assert!(note_problem(&"é".repeat(MAX_NOTE + 1)).unwrap().contains("5001"));
        assert!(note_problem("a\0b").is_some());
        assert!(note_problem(" a note ").is_none());
    }
}
