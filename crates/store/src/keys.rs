//! Persistence of the hub's signing keys, with their rotation dates: a key is published from
//! its creation, signs from `not_before`, and leaves the JWKS at `retire_at`.

use async_trait::async_trait;

use crate::StoreError;

/// One signing key as stored.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct StoredSigningKey {
    /// The `kid` published in the JWKS.
    pub kid: String,
    /// `ES256` or `RS256`.
    pub alg: String,
    /// The private key, PKCS#8 PEM.
    pub private_pem: String,
    /// When it was created (seconds since the epoch); published from then.
    pub created_at: u64,
    /// When it may start signing.
    pub not_before: u64,
    /// When it leaves the JWKS, once a newer key has taken over.
    pub retire_at: Option<u64>,
}

impl std::fmt::Debug for StoredSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("not_before", &self.not_before)
            .field("retire_at", &self.retire_at)
            .finish_non_exhaustive()
    }
}

/// Where the hub keeps its signing keys. Keys are only added, retired and removed, never
/// replaced: two nodes starting at once each add a key and both converge on reading back.
#[async_trait]
pub trait KeyStore: Send + Sync + 'static {
    /// The stored keys, oldest first.
    async fn load(&self) -> Result<Vec<StoredSigningKey>, StoreError>;
    /// Adds a key.
    async fn add(&self, key: &StoredSigningKey) -> Result<(), StoreError>;
    /// Sets when a key leaves the JWKS.
    async fn retire(&self, kid: &str, retire_at: u64) -> Result<(), StoreError>;
    /// Removes the keys retired before `now`; how many.
    async fn remove_retired(&self, now: u64) -> Result<u64, StoreError>;
}
