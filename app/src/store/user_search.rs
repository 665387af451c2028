//! Search-as-you-type and sort keys for the users list. Tokens are the
//! lower-cased words of the userID, userName and email, and their
//! space-separated chunks ("ana-silva", the whole email), matched by prefix
//! through an index range. Each token entry also carries the user's stable
//! sort keys (see `user_postings.rs`).

use super::{with_pool, with_tx, write_tx, Store, StoreResult};

/// Words a user can be found by.
pub(crate) fn search_tokens(external_id: &str, user_name: Option<&str>, email: Option<&str>) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    // A search word never holds a space, so a chunk is only worth keeping
    // when it is more than one word ("ana-silva", "u-42", an email).
    let mut add = |text: &str| {
        for chunk in text.to_lowercase().split_whitespace() {
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
    tokens.sort();
    tokens.dedup();
    tokens
}

/// The key the list sorts "by name" on.
pub(crate) fn sort_name(external_id: &str, user_name: Option<&str>) -> String {
    user_name.filter(|n| !n.trim().is_empty()).unwrap_or(external_id).trim().to_lowercase()
}

/// The words of a search box, each matched as a prefix (at most 4 words).
pub(crate) fn search_words(search: &str) -> Vec<String> {
    let lower = search.to_lowercase();
    let mut words: Vec<String> = lower
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

/// Rewrites a user's sort key and search tokens (each with the user's sort
/// keys), on a connection or inside a transaction (`&mut *tx`) of either
/// backend. Expands in a fn returning `StoreResult`.
macro_rules! index_user {
    ($conn:expr, $user_id:expr, $external_id:expr, $user_name:expr, $email:expr) => {{
        let conn = $conn;
        let (user_id, external_id, user_name, email): (i64, &str, Option<&str>, Option<&str>) =
            ($user_id, $external_id, $user_name, $email);
        sqlx::query("UPDATE users SET sort_name = $1 WHERE id = $2")
            .bind($crate::store::user_search::sort_name(external_id, user_name))
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM user_search WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
        for token in $crate::store::user_search::search_tokens(external_id, user_name, email) {
            sqlx::query(
                "INSERT INTO user_search (app_id, token, user_id, sort_name, created_at)
                 SELECT app_id, $1, id, sort_name, created_at FROM users WHERE id = $2",
            )
            .bind(token)
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        }
    }};
}
pub(crate) use index_user;

/// (id, external_id, user_name, email)
type UnindexedUser = (i64, String, Option<String>, Option<String>);

impl Store {
    /// Fills sort keys and tokens of users that have none (after the
    /// migration that introduced them); a no-op afterwards.
    pub(crate) async fn backfill_user_index(&self) -> StoreResult<()> {
        let pending = "SELECT id, external_id, user_name, email FROM users WHERE sort_name = '' LIMIT 1000";
        loop {
            let rows: Vec<UnindexedUser> = with_pool!(self, |pool| sqlx::query_as(pending).fetch_all(pool).await)?;
            write_tx!(self, |tx| {
                with_tx!(tx, |conn| {
                    for (id, external_id, user_name, email) in &rows {
                        index_user!(&mut *conn, *id, external_id, user_name.as_deref(), email.as_deref());
                    }
                });
                Ok(())
            })?;
            let done = rows.len() < 1000;
            if done {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_cover_words_of_every_field() {
        let tokens = search_tokens("U-42", Some("Zoë Ana-Silva"), Some("Zoe.Silva@Example.com"));
        let expected =
            ["42", "ana", "ana-silva", "com", "example", "silva", "u", "u-42", "zoe", "zoe.silva@example.com", "zoë"];
        assert_eq!(tokens, expected, "sorted, without duplicates or whole multi-word names");
    }

    #[test]
    fn search_words_and_ranges() {
        assert_eq!(search_words("  Ana  SILVA, x "), ["ana", "silva", "x"]);
        assert_eq!(search_words("\"ana\""), ["ana"]);
        let (lo, hi) = prefix_range("an");
        assert!(lo.as_str() <= "ana" && "ana" < hi.as_str() && "ao" > hi.as_str());
        assert_eq!(sort_name("u1", Some("  Álvaro ")), "álvaro");
        assert_eq!(sort_name("U1", None), "u1");
    }
}
