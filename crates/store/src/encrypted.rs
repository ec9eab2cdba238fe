//! Encryption of ephemeral entries before they leave the process (to Redis): XChaCha20-Poly1305
//! with a random 192-bit nonce per entry, the entry's key as associated data (an entry copied
//! under another key does not decrypt), and the id of the encryption key stored with the entry
//! so that keys can be rotated: the first configured key encrypts, all of them decrypt.

use std::sync::Arc;

use async_trait::async_trait;

use crate::sealing::{KeyRing, SealingKey};
use crate::{EphemeralStore, StoreError};

/// An [`EphemeralStore`] that encrypts every value for the store beneath it.
pub struct EncryptingStore {
    inner: Arc<dyn EphemeralStore>,
    ring: KeyRing,
}

impl EncryptingStore {
    /// Encrypts with `keys[0]`, decrypts with any of `keys`.
    pub fn new(inner: Arc<dyn EphemeralStore>, keys: Vec<SealingKey>) -> Result<Self, StoreError> {
        Ok(Self { inner, ring: KeyRing::new(keys)? })
    }

    fn seal(&self, key: &str, value: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.ring.seal(key.as_bytes(), value)
    }

    /// The clear value, or `None` for an entry no configured key opens (its key was retired,
    /// or it was tampered with): such an entry is as good as expired.
    fn open(&self, key: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        match self.ring.open(key.as_bytes(), sealed) {
            Ok(clear) => Some(clear),
            Err(why) => {
                tracing::warn!(why = why.as_str(), "ephemeral entry does not decrypt: ignored");
                None
            }
        }
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
