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
}
