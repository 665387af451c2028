//! Segments as the profile's Segments box and the "New Segment" modal see them.

use serde::{Deserialize, Serialize};

/// A named group of users in one app.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Segment {
    pub id: i64,
    pub name: String,
}

/// One search result of the "New Segment" modal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct SegmentMatch {
    pub id: i64,
    pub name: String,
    /// The user already belongs to it (shown as such, not selectable).
    pub member: bool,
}

/// What a search of the modal answers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SegmentSearch {
    /// The searched text, as sent (the browser drops answers to older texts).
    pub text: String,
    /// Names starting with the text first, then names containing it; at
    /// most [`SEARCH_LIMIT`].
    pub matches: Vec<SegmentMatch>,
    /// A segment is named exactly like the text (ignoring case and
    /// surrounding spaces): no "Create it?".
    pub exact: bool,
}

/// Results shown per search.
pub const SEARCH_LIMIT: usize = 20;
/// Longest segment name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// A segment name as stored: trimmed, 1 to [`MAX_NAME_CHARS`] characters,
/// no control characters. The error is a sentence for the person typing.
pub fn segment_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("Type a segment name.".into());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("A segment name has at most {MAX_NAME_CHARS} characters."));
    }
    if name.chars().any(|c| c.is_control() || crate::text::is_invisible(c)) {
        return Err("A segment name cannot contain control or invisible characters.".into());
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(segment_name("  VIP "), Ok("VIP".into()));
        assert!(segment_name("").is_err());
        assert!(segment_name("   ").is_err());
        assert_eq!(segment_name(&"é".repeat(64)).map(|n| n.chars().count()), Ok(64));
        assert!(segment_name(&"x".repeat(65)).is_err());
        assert!(segment_name("a\tb").is_err());
        assert!(segment_name("a\u{0}b").is_err());
        assert!(segment_name("ab\u{202e}c").is_err());
        for invisible in ['\u{200B}', '\u{200E}', '\u{200F}', '\u{061C}', '\u{2060}', '\u{FEFF}', '\u{E0041}'] {
            assert!(segment_name(&format!("V{invisible}IP")).is_err(), "{:?}", invisible);
        }
        assert_eq!(segment_name("Zoë's ⭐"), Ok("Zoë's ⭐".into()));
    }
}
