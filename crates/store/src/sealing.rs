//! Sealing values with keys of the hub's configuration: XChaCha20-Poly1305 with a random
//! 192-bit nonce per value, a context string as associated data (a value copied to another
//! place does not open there), and the id of the key stored with the value so that keys can be
//! rotated: the first key of a ring seals, all of them open. One implementation serves the
//! ephemeral entries sent to Redis and the secrets the registry keeps at rest (the hub's
//! signing keys, its client secrets at identity providers).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
// The operating system's generator for keys and nonces, the cryptography's own need (clippy's
// `disallowed-types` keeps it out of everything else).
#[allow(clippy::disallowed_types)]
use chacha20poly1305::aead::OsRng;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::StoreError;

const NONCE_LENGTH: usize = 24;

/// One sealing key and its id.
#[derive(Clone)]
pub struct SealingKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealingKey").field("id", &self.id).finish_non_exhaustive()
    }
}

impl SealingKey {
    /// Parses `id:base64` where the base64 decodes to 32 bytes.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (id, encoded) = text.split_once(':').ok_or("expected `id:base64-of-32-bytes`")?;
        if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err("the key id must be 1 to 32 letters, digits, `-` or `_`".into());
        }
        let bytes = STANDARD.decode(encoded.trim()).map_err(|_| "the key is not base64")?;
        if bytes.len() != 32 {
            return Err(format!("the key must be 32 bytes, not {}", bytes.len()));
        }
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| "invalid key length")?;
        Ok(Self { id: id.to_owned(), cipher })
    }

    /// A key derived from another secret of the configuration (SHA-256 over a label naming its
    /// use and the secret), for deployments that configure no key of their own.
    pub fn derive(id: &str, label: &str, secret: &str) -> Self {
        let digest = Sha256::new()
            .chain_update(b"relais-sealing-key-v1\x1f")
            .chain_update(label.as_bytes())
            .chain_update(b"\x1e")
            .chain_update(secret.as_bytes())
            .finalize();
        Self { id: id.to_owned(), cipher: XChaCha20Poly1305::new(&digest) }
    }

    /// A fresh random key, as `id:base64` (for `relais keys` to print when asked).
    pub fn generate_text(id: &str) -> String {
        format!("{id}:{}", STANDARD.encode(XChaCha20Poly1305::generate_key(&mut OsRng)))
    }

    /// The key's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Keys in order: the first seals, any opens.
#[derive(Clone, Debug)]
pub struct KeyRing {
    keys: Vec<SealingKey>,
}

impl KeyRing {
    /// A ring of `keys`; at least one.
    pub fn new(keys: Vec<SealingKey>) -> Result<Self, StoreError> {
        if keys.is_empty() {
            return Err(StoreError::Unavailable("no sealing key configured".into()));
        }
        Ok(Self { keys })
    }

    /// A ring of one key.
    pub fn one(key: SealingKey) -> Self {
        Self { keys: vec![key] }
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> &str {
        &self.keys[0].id
    }

    /// `value` sealed for `context`: key id length, key id, nonce, ciphertext.
    pub fn seal(&self, context: &[u8], value: &[u8]) -> Result<Vec<u8>, StoreError> {
        let current = &self.keys[0];
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = current
            .cipher
            .encrypt(&nonce, Payload { msg: value, aad: context })
            .map_err(|_| StoreError::Corrupt("encryption failed".into()))?;
        let mut sealed = Vec::with_capacity(1 + current.id.len() + NONCE_LENGTH + ciphertext.len());
        sealed.push(current.id.len() as u8);
        sealed.extend_from_slice(current.id.as_bytes());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// The clear value of `sealed` for `context`, or why it does not open.
    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, Unsealable> {
        let (&id_length, rest) = sealed.split_first().ok_or(Unsealable::Malformed)?;
        let id = rest.get(..usize::from(id_length)).ok_or(Unsealable::Malformed)?;
        let nonce =
            rest.get(usize::from(id_length)..usize::from(id_length) + NONCE_LENGTH).ok_or(Unsealable::Malformed)?;
        let ciphertext = rest.get(usize::from(id_length) + NONCE_LENGTH..).ok_or(Unsealable::Malformed)?;
        let owner = self.keys.iter().find(|k| k.id.as_bytes() == id).ok_or(Unsealable::UnknownKey)?;
        let nonce: [u8; NONCE_LENGTH] = nonce.try_into().map_err(|_| Unsealable::Malformed)?;
        owner
            .cipher
            .decrypt(&XNonce::from(nonce), Payload { msg: ciphertext, aad: context })
            .map_err(|_| Unsealable::Altered)
    }

    /// `value` sealed for `context`, as text (`sealed:v1:` and URL-safe base64).
    pub fn seal_text(&self, context: &str, value: &str) -> Result<String, StoreError> {
        let sealed = self.seal(context.as_bytes(), value.as_bytes())?;
        Ok(format!("{SEALED_TEXT_PREFIX}{}", URL_SAFE_NO_PAD.encode(sealed)))
    }

    /// The clear text of a value sealed by [`Self::seal_text`] for `context`.
    pub fn open_text(&self, context: &str, sealed: &str) -> Result<String, StoreError> {
        let corrupt = |why: &str| StoreError::Corrupt(format!("sealed value for {context}: {why}"));
        let encoded = sealed.strip_prefix(SEALED_TEXT_PREFIX).ok_or_else(|| corrupt("not sealed"))?;
        let bytes = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| corrupt("not base64"))?;
        let clear = self.open(context.as_bytes(), &bytes).map_err(|why| corrupt(why.as_str()))?;
        String::from_utf8(clear).map_err(|_| corrupt("not text"))
    }
}

/// Whether `text` is a value sealed by [`KeyRing::seal_text`].
pub fn is_sealed_text(text: &str) -> bool {
    text.starts_with(SEALED_TEXT_PREFIX)
}

const SEALED_TEXT_PREFIX: &str = "sealed:v1:";

/// Why a sealed value does not open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unsealable {
    /// Not a sealed value.
    Malformed,
    /// Sealed with a key the ring does not hold (retired, or another deployment's).
    UnknownKey,
    /// Altered, or sealed for another context.
    Altered,
}

impl Unsealable {
    /// What to log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::UnknownKey => "sealed with an unknown key",
            Self::Altered => "altered or moved",
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ring(texts: &[&str]) -> KeyRing {
        KeyRing::new(texts.iter().map(|t| SealingKey::parse(t).unwrap()).collect()).unwrap()
    }

    #[test]
    fn text_opens_in_its_context_only_and_after_rotation() {
        let old = SealingKey::generate_text("old");
        let new = SealingKey::generate_text("new");
        let before = ring(&[&old]);
        let sealed = before.seal_text("signing_key:k1", "-----BEGIN PRIVATE KEY-----").unwrap();
        assert!(is_sealed_text(&sealed) && !sealed.contains("PRIVATE"));
        assert_eq!(before.open_text("signing_key:k1", &sealed).unwrap(), "-----BEGIN PRIVATE KEY-----");
        assert!(before.open_text("signing_key:k2", &sealed).is_err());
        let rotated = ring(&[&new, &old]);
        assert_eq!(rotated.open_text("signing_key:k1", &sealed).unwrap(), "-----BEGIN PRIVATE KEY-----");
        assert!(ring(&[&new]).open_text("signing_key:k1", &sealed).is_err());
        assert!(rotated.seal_text("c", "v").unwrap() != rotated.seal_text("c", "v").unwrap(), "random nonces");
    }

    #[test]
    fn a_derived_key_is_stable_and_depends_on_its_secret() {
        let a = KeyRing::new(vec![SealingKey::derive("derived", "kek", "secret-one")]).unwrap();
        let b = KeyRing::new(vec![SealingKey::derive("derived", "kek", "secret-one")]).unwrap();
        let c = KeyRing::new(vec![SealingKey::derive("derived", "kek", "secret-two")]).unwrap();
        let sealed = a.seal_text("x", "value").unwrap();
        assert_eq!(b.open_text("x", &sealed).unwrap(), "value");
        assert!(c.open_text("x", &sealed).is_err());
    }
}
