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

/// The SHA-256 of `token`, base64url: the key a token is stored under.
pub fn digest(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// [`digest`] as the type records hold.
pub fn digest_of(token: &str) -> relais_domain::values::Digest {
    relais_domain::values::Digest::new(digest(token))
}
