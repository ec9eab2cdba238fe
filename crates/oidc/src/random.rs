//! Unguessable identifiers (codes, tokens, states) and the digests they are stored under, so
//! that a copy of the ephemeral store holds no usable token.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// 256 random bits from the operating system, base64url without padding (43 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `N` random bytes from the operating system (a `webhook-id`, a secret).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// A number in [0, 1), for jitter.
pub fn random_unit() -> f64 {
    (rand::rngs::OsRng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether `value` has the form of a [`random_token`]: 43 base64url characters.
pub fn is_random_token(value: &str) -> bool {
    value.len() == 43 && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// The SHA-256 of `token`, base64url: the key a token is stored under.
pub fn digest(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// [`digest`] as the type records hold.
pub fn digest_of(token: &str) -> relais_domain::values::Digest {
    relais_domain::values::Digest::new(digest(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_has_the_form_it_is_checked_for() {
        assert!(is_random_token(&random_token()));
        assert!(!is_random_token("x"));
        assert!(!is_random_token(&format!("{}=", &random_token()[..42])));
    }
}
