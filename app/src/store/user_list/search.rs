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
/// when there is no name. Never empty: an empty key marks a user for
/// re-indexing (`Store::backfill_user_index`), so a name or userID that
/// folds to nothing (combining marks alone) is keyed by the userID folded,
/// or else as given.
pub(crate) fn sort_name(external_id: &str, user_name: Option<&str>) -> String {
    let folded = fold(user_name.filter(|n| !n.trim().is_empty()).unwrap_or(external_id).trim());
    if !folded.is_empty() {
        return folded;
    }
    let id = fold(external_id.trim());
    match (id.is_empty(), external_id.is_empty()) {
        (false, _) => id,
        (true, false) => external_id.to_string(),
        (true, true) => "\u{fffd}".to_string(),
    }
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

    /// The tokens as the user's row keeps them (`users.search_tokens`).
    pub(crate) fn listed(&self) -> String {
        token_list(&self.tokens)
    }
}

/// Tokens as one text, each after a space and the last before one
/// (" ana com silva "): a user holds a token starting with a word exactly
/// when the text holds " " + word ([`check_pattern`]). The user's row keeps
/// it, so a candidate is checked on the row already read, and `user_search`
/// needs no index by user (its rows are deleted by their key, built from
/// this list and the sort name: [`listed_tokens`]). Tokens hold no
/// whitespace, and are listed in byte order, as the index holds them.
pub(crate) fn token_list(tokens: &[String]) -> String {
    let mut text = String::with_capacity(tokens.iter().map(|t| t.len() + 1).sum::<usize>() + 1);
    for token in tokens {
        text.push(' ');
        text.push_str(token);
    }
    text.push(' ');
    text
}

/// The tokens of a [`token_list`].
pub(crate) fn listed_tokens(list: &str) -> impl Iterator<Item = &str> {
    list.split(' ').filter(|t| !t.is_empty())
}

/// What a user's token list holds when one of its tokens starts with `word`.
pub(crate) fn check_pattern(word: &str) -> String {
    format!(" {word}")
}

/// The values bound for a plan's words, in order: the first `ranges` as
/// [lo, hi) pairs (read from the index), each other one as its
/// [`check_pattern`] (checked by [`word_checks`]).
pub(crate) fn word_binds(words: &[String], ranges: usize) -> Vec<String> {
    let mut binds = Vec::with_capacity(words.len() + ranges);
    for (i, word) in words.iter().enumerate() {
        if i < ranges {
            let (lo, hi) = prefix_range(word);
            binds.extend([lo, hi]);
        } else {
            binds.push(check_pattern(word));
        }
    }
    binds
}

/// `AND` checks that the user whose token list is `tokens` (an SQL
/// expression) holds a token starting with each of `words` words, their
/// patterns bound from `$first` on. `instr` is SQLite's; the PostgreSQL
/// schema defines it over `strpos`.
pub(crate) fn word_checks(words: usize, first: usize, tokens: &str) -> String {
    (0..words).map(|i| format!(" AND instr({tokens}, ${}) > 0", first + i)).collect()
}

/// A user's token list by its id (an SQL expression), for the checks of a
/// candidate whose row is not read in the same statement.
pub(crate) fn tokens_of(user_id: &str) -> String {
    format!("(SELECT t.search_tokens FROM users t WHERE t.id = {user_id})")
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
        let list = token_list(&tokens);
        assert_eq!(listed_tokens(&list).collect::<Vec<_>>(), expected, "the list gives the tokens back");
        for word in ["ana-s", "zoe.", "4", "silva", "example"] {
            assert!(list.contains(&check_pattern(word)), "{word} is found in the list");
        }
        for word in ["na", "lva", "42x", "ample", "ana silva"] {
            assert!(!list.contains(&check_pattern(word)), "{word} starts no token");
        }
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
        assert_eq!(sort_name("U1", Some("\u{301}")), "u1", "a name that folds to nothing: the userID");
        assert_eq!(sort_name("\u{301}", None), "\u{301}", "a userID that folds to nothing: as given");
        assert!(!sort_name("", None).is_empty(), "never the re-indexing mark");
        let mut names = ["Bruno", "Álvaro", "alice", "Zoë"].map(|n| sort_name("x", Some(n)));
        names.sort();
        assert_eq!(names, ["alice", "alvaro", "bruno", "zoe"], "Álvaro sorts with the A's");
    }
}
