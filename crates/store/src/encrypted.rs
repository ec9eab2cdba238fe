//! Encryption of ephemeral entries before they leave the process (to Redis): XChaCha20-Poly1305
//! with a random 192-bit nonce per entry, the entry's key as associated data (an entry copied
//! under another key does not decrypt), and the id of the encryption key stored with the entry
//! so that keys can be rotated: the first configured key encrypts, all of them decrypt.

use std::sync::Arc;

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::{EphemeralStore, StoreError};

const NONCE_LENGTH: usize = 24;

/// One encryption key and its id.
#[derive(Clone)]
pub struct EphemeralKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for EphemeralKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EphemeralKey").field("id", &self.id).finish_non_exhaustive()
    }
}

impl EphemeralKey {
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

    /// A fresh random key, as `id:base64` (for `relais` to print when asked).
    pub fn generate_text(id: &str) -> String {
        format!("{id}:{}", STANDARD.encode(XChaCha20Poly1305::generate_key(&mut OsRng)))
    }

    /// The key's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// An [`EphemeralStore`] that encrypts every value for the store beneath it.
pub struct EncryptingStore {
    inner: Arc<dyn EphemeralStore>,
    keys: Vec<EphemeralKey>,
}

impl EncryptingStore {
    /// Encrypts with `keys[0]`, decrypts with any of `keys`.
    pub fn new(inner: Arc<dyn EphemeralStore>, keys: Vec<EphemeralKey>) -> Result<Self, StoreError> {
        if keys.is_empty() {
            return Err(StoreError::Unavailable("no encryption key for the ephemeral store".into()));
        }
        Ok(Self { inner, keys })
    }

    fn seal(&self, key: &str, value: &[u8]) -> Result<Vec<u8>, StoreError> {
        let current = &self.keys[0];
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = current
            .cipher
            .encrypt(&nonce, Payload { msg: value, aad: key.as_bytes() })
            .map_err(|_| StoreError::Corrupt("encryption failed".into()))?;
        let mut sealed = Vec::with_capacity(1 + current.id.len() + NONCE_LENGTH + ciphertext.len());
        sealed.push(current.id.len() as u8);
        sealed.extend_from_slice(current.id.as_bytes());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// The clear value, or `None` for an entry no configured key opens (its key was retired,
    /// or it was tampered with): such an entry is as good as expired.
    fn open(&self, key: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        let (&id_length, rest) = sealed.split_first()?;
        let id = rest.get(..usize::from(id_length))?;
        let nonce = rest.get(usize::from(id_length)..usize::from(id_length) + NONCE_LENGTH)?;
        let ciphertext = rest.get(usize::from(id_length) + NONCE_LENGTH..)?;
        let Some(owner) = self.keys.iter().find(|k| k.id.as_bytes() == id) else {
            tracing::warn!("ephemeral entry encrypted with an unknown key: ignored");
            return None;
        };
        let nonce: [u8; NONCE_LENGTH] = nonce.try_into().ok()?;
        let opened = owner.cipher.decrypt(&XNonce::from(nonce), Payload { msg: ciphertext, aad: key.as_bytes() });
        if opened.is_err() {
            tracing::warn!("ephemeral entry does not decrypt: ignored");
        }
        opened.ok()
    }
}

#[async_trait]
impl EphemeralStore for EncryptingStore {
    async fn put(&self, key: &str, value: Vec<u8>, ttl_seconds: u64) -> Result<(), StoreError> {
        self.inner.put(key, self.seal(key, &value)?, ttl_seconds).await
    }

    async fn put_if_absent(&self, key: &str, value: Vec<u8>, ttl_seconds: u64) -> Result<bool, StoreError> {
        self.inner.put_if_absent(key, self.seal(key, &value)?, ttl_seconds).await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.inner.get(key).await?.and_then(|sealed| self.open(key, &sealed)))
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.inner.take(key).await?.and_then(|sealed| self.open(key, &sealed)))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
}
