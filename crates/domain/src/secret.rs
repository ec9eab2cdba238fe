//! A wrapper for secrets: never printed, compared in constant time.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A secret string (client secret, hub key material). `Debug` prints `Secret(***)`; equality is
/// constant-time, so comparing a presented secret leaks nothing through timing. It serialises
/// in clear: only the registry's storage serialises it.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that must use it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison with a presented value.
    pub fn matches(&self, presented: &str) -> bool {
        // Digests first: comparing slices of different lengths would return early and tell
        // the secret's length.
        let expected = Sha256::digest(self.0.as_bytes());
        let given = Sha256::digest(presented.as_bytes());
        expected.ct_eq(&given).into()
    }

    /// Whether the secret is empty (a configuration error wherever a secret is required).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Eq for Secret {}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.matches(&other.0)
    }
}

/// What the hub keeps of a secret that a partner presents to it (a service provider's or a data
/// provider's client secret): a digest, so the registry holds nothing that authenticates. The
/// digest is SHA-256 over a version label, the partner's id and the secret: salted by the id,
/// deterministic so that loading the same configuration writes the same row. A fast hash is
/// enough because registered secrets are at least 32 characters of a generated credential (the
/// registration rules refuse shorter ones), far beyond any guessing; a slow password hash would
/// cost every token request without adding to that.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct SecretDigest(String);

impl SecretDigest {
    const VERSION: &'static str = "sha256v1$";

    /// The digest of `secret`, presented by the partner `owner`.
    pub fn of(owner: &str, secret: &Secret) -> Self {
        Self(Self::compute(owner, secret.expose()))
    }

    fn compute(owner: &str, secret: &str) -> String {
        let digest = Sha256::new()
            .chain_update(b"relais-partner-secret-v1\x1f")
            .chain_update(owner.as_bytes())
            .chain_update(b"\x1e")
            .chain_update(secret.as_bytes())
            .finalize();
        format!("{}{}", Self::VERSION, crate::lower_hex(&digest))
    }

    /// Wraps a digest read back from storage; `None` if it is not one.
    pub fn from_stored(value: impl Into<String>) -> Option<Self> {
        let value = value.into();
        value.starts_with(Self::VERSION).then_some(Self(value))
    }

    /// The digest as stored.
    pub fn as_stored(&self) -> &str {
        &self.0
    }

    /// Whether `presented` by `owner` is the secret, compared in constant time.
    pub fn matches(&self, owner: &str, presented: &str) -> bool {
        let given = Self::compute(owner, presented);
        given.as_bytes().ct_eq(self.0.as_bytes()).into()
    }
}

impl std::fmt::Debug for SecretDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretDigest(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_value_and_comparison_is_exact() {
        let secret = Secret::new("s3cr3t");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert!(secret.matches("s3cr3t"));
        assert!(!secret.matches("s3cr3"));
        assert!(!secret.matches("s3cr3t "));
    }

    #[test]
    fn a_digest_checks_the_secret_of_its_owner_only_and_never_holds_it() {
        let secret = Secret::new("a-secret-of-at-least-thirty-two-chars");
        let digest = SecretDigest::of("mairie", &secret);
        assert!(digest.matches("mairie", secret.expose()));
        assert!(!digest.matches("mairie", "a-secret-of-at-least-thirty-two-char"));
        assert!(!digest.matches("other", secret.expose()));
        assert!(!digest.as_stored().contains(secret.expose()));
        assert_eq!(SecretDigest::from_stored(digest.as_stored()), Some(digest.clone()));
        assert_eq!(SecretDigest::from_stored(secret.expose()), None);
        assert_eq!(format!("{digest:?}"), "SecretDigest(***)");
    }
}
