//! Search-as-you-type keys. Tokens are the folded words of the userID,
//! userName and email, and their space-separated chunks ("ana-silva", the
//! whole email), matched by prefix through an index range. Folding (lower
//! case, compatibility decomposition, combining marks dropped) is the same
//! at index time and at query time, so "alvaro" and "ÁLVARO" find
//! "Álvaro", and "Álvaro" sorts with the A's. Only keys are folded; the
//! stored names are shown as they were given.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The search and sort form of `text`: lower-cased, NFKD-decomposed, without
/// combining marks ("Álvaro Núñez" → "alvaro nunez", "ﬁ" → "fi"). Letters
/// that do not decompose stay as they are ("ø", "ł", "ß").
pub(crate) fn fold(text: &str) -> String {
    text.to_lowercase().nfkd().filter(|c| !is_combining_mark(*c)).collect()
}

/// Words a user can be found by: folded, sorted, without duplicates. The
/// first character of each is a token too (the *initial*): a one-letter
/// search then reads the one posting list of that letter, already in list
/// order, instead of every token starting with it (a letter's range can
/// hold most of the index). It changes no match: a user holding an initial
/// holds a longer token starting with it.
pub(crate) fn search_tokens(external_id: &str, user_name: Option<&str>, email: Option<&str>) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    // A search word never holds a space, so a chunk is only worth keeping
    // when it is more than one word ("ana-silva", "u-42", an email).
    let mut add = |text: &str| {
        for chunk in fold(text).split_whitespace() {
            let words: Vec<&str> = chunk.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
            if words.len() != 1 || words[0] != chunk {
                tokens.push(chunk.to_string());
            }
            tokens.extend(words.into_iter().map(str::to_string));
        }
    };
    add(external_id);
    if let Some(name) = user_name {
        add(name);
    }
    if let Some(email) = email {
        add(email);
    }
    tokens.retain(|t| !t.is_empty() && t.len() <= 200);
    let initials: Vec<String> = tokens.iter().filter_map(|t| t.chars().next()).map(String::from).collect();
    tokens.extend(initials);
    tokens.sort();
    tokens.dedup();
    tokens
}

/// The key the list sorts "by name" on: the folded userName, or userID
/// when there is no name.
pub(crate) fn sort_name(external_id: &str, user_name: Option<&str>) -> String {
    fold(user_name.filter(|n| !n.trim().is_empty()).unwrap_or(external_id).trim())
}

/// The words of a search box, folded, each matched as a prefix (at most 4 words).
pub(crate) fn search_words(search: &str) -> Vec<String> {
    let folded = fold(search);
    let mut words: Vec<String> = folded
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '@' && c != '.' && c != '-' && c != '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    words.truncate(4);
    words
}

/// `[lo, hi)` bounds of the tokens starting with `word` (byte order).
pub(crate) fn prefix_range(word: &str) -> (String, String) {
    (word.to_string(), format!("{word}\u{10FFFF}"))
}

/// A user's search keys, computed once for every writer (single upserts,
/// bulk inserts, the start-up backfill).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IndexKeys {
    pub sort_name: String,
    pub tokens: Vec<String>,
}

impl IndexKeys {
    pub(crate) fn of(external_id: &str, user_name: Option<&str>, email: Option<&str>) -> IndexKeys {
        IndexKeys { sort_name: sort_name(external_id, user_name), tokens: search_tokens(external_id, user_name, email) }
    }
}

/// `AND EXISTS` checks that user `user_id` (an SQL expression) has a token
/// in each [lo, hi) pair, with placeholders from `$first` on (one index
/// seek per check).
pub(crate) fn word_checks(words: usize, first: usize, user_id: &str) -> String {
    (0..words)
        .map(|i| {
            format!(
                " AND EXISTS (SELECT 1 FROM user_search s WHERE s.user_id = {user_id} AND s.token >= ${} \
                 AND s.token < ${})",
                first + 2 * i,
                first + 2 * i + 1
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_cover_words_of_every_field() {
        let tokens = search_tokens("U-42", Some("Zoë Ana-Silva"), Some("Zoe.Silva@Example.com"));
        let expected = [
            "4",
            "42",
            "a",
            "ana",
            "ana-silva",
            "c",
            "com",
            "e",
            "example",
            "s",
            "silva",
            "u",
            "u-42",
            "z",
            "zoe",
            "zoe.silva@example.com",
        ];
        assert_eq!(tokens, expected, "folded, sorted, without duplicates or whole multi-word names, with initials");
    }

    #[test]
    fn accents_and_case_fold_the_same_at_index_and_query_time() {
        assert_eq!(fold("Álvaro NÚÑEZ"), "alvaro nunez");
        assert_eq!(fold("Ｚｏë ﬁ"), "zoe fi", "compatibility forms too");
        assert_eq!(fold("Łukasz Søren"), "łukasz søren", "letters without a decomposition stay");
        let tokens = search_tokens("u1", Some("Álvaro Núñez"), None);
        for query in ["alvaro", "ÁLVARO", "álv", "nunez", "Núñ"] {
            let words = search_words(query);
            assert!(tokens.iter().any(|t| t.starts_with(&words[0])), "{query} finds Álvaro Núñez");
        }
    }

    #[test]
    fn search_words_and_ranges() {
        assert_eq!(search_words("  Ana  SILVA, x "), ["ana", "silva", "x"]);
        assert_eq!(search_words("\"ana\""), ["ana"]);
        let (lo, hi) = prefix_range("an");
        assert!(lo.as_str() <= "ana" && "ana" < hi.as_str() && "ao" > hi.as_str());
        assert_eq!(sort_name("u1", Some("  Álvaro ")), "alvaro");
        assert_eq!(sort_name("U1", None), "u1");
        let mut names = ["Bruno", "Álvaro", "alice", "Zoë"].map(|n| sort_name("x", Some(n)));
        names.sort();
        assert_eq!(names, ["alice", "alvaro", "bruno", "zoe"], "Álvaro sorts with the A's");
    }
}
