//! Account passwords: argon2id hashes in PHC format, checked off the async
//! runtime (hashing is deliberately slow).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

pub const MIN_LENGTH: usize = 10;

/// Rejects passwords that are short or trivially guessable.
pub fn check_strength(password: &str) -> Result<(), String> {
    let chars: Vec<char> = password.chars().collect();
    if chars.len() < MIN_LENGTH {
        return Err(format!("the password must be at least {MIN_LENGTH} characters"));
    }
    if chars.iter().all(|c| *c == chars[0]) {
        return Err("the password must not repeat one character".into());
    }
    let lower = password.to_lowercase();
    if ["password", "1234567890", "qwertyuiop", "letmein"].iter().any(|weak| lower.contains(weak)) {
        return Err("the password is too easy to guess".into());
    }
    Ok(())
}

pub async fn hash(password: String) -> Result<String, argon2::password_hash::Error> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await
    .expect("password hashing task")
}

/// Checks a password against a stored hash. With no hash (unknown account)
/// it still does the work of one check, so timing does not tell which
/// accounts exist.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_string());
        let Ok(parsed) = PasswordHash::new(&stored) else { return false };
        Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() && stored != DUMMY_HASH
    })
    .await
    .unwrap_or(false)
}

/// A valid hash of a random password nobody knows.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Wq3kH3vEo6Zc5m4QpJ2Y0V0bH3c4pX9Xw1yq8kq1eZs";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength() {
        assert!(check_strength("short").is_err());
        assert!(check_strength("aaaaaaaaaaaa").is_err());
        assert!(check_strength("MyPassword123").is_err());
        assert!(check_strength("correct horse battery").is_ok());
    }

    /// The dummy hash must be a real Argon2id hash, so that an unknown email
    /// costs the same full verification as a known one (no timing oracle).
    /// A malformed one would be rejected at parse time, quickly.
    #[test]
    fn the_dummy_hash_costs_a_full_verification() {
        let parsed = PasswordHash::new(DUMMY_HASH).expect("DUMMY_HASH parses as a PHC string");
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert_eq!(parsed.hash.map(|h| h.len()), Some(32));
        let outcome = Argon2::default().verify_password(b"any password", &parsed);
        assert_eq!(outcome, Err(argon2::password_hash::Error::Password), "fails on the password, not the format");
    }

    #[tokio::test]
    async fn hashes_verify_only_the_right_password() {
        let stored = hash("correct horse battery".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery".into(), Some(stored.clone())).await);
        assert!(!verify("wrong horse battery".into(), Some(stored)).await);
        assert!(!verify("anything".into(), None).await);
    }
}
