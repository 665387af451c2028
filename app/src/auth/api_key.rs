//! App API keys: 256 random bits shown once, stored only as a SHA-256 hash.
//! A fast hash is right here (unlike passwords): the key is high-entropy, so
//! it cannot be guessed from its hash, and lookups by hash stay indexable.

use rand::RngCore;
use sha2::{Digest, Sha256};

const PREFIX: &str = "aud_";

/// A new API key, e.g. `aud_3f9c…` (64 hex digits after the prefix).
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{PREFIX}{}", hex::encode(bytes))
}

/// The stored form of a key.
pub fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.trim().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_hash_stably() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 64);
        assert_eq!(hash(&a), hash(&format!(" {a}\n")));
        assert_ne!(hash(&a), hash(&b));
        assert_ne!(hash(&a), a);
    }
}
