//! Persistence of the hub's signing keys. Keys are private key material: the file backend
//! writes them with owner-only permissions.

use std::path::PathBuf;

use async_trait::async_trait;

use crate::StoreError;

/// One signing key as stored: its id, algorithm and PKCS#8 PEM private key.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct StoredSigningKey {
    /// The `kid` published in the JWKS.
    pub kid: String,
    /// `ES256` or `RS256`.
    pub alg: String,
    /// The private key, PKCS#8 PEM.
    pub private_pem: String,
    /// When it was created (seconds since the epoch).
    pub created_at: u64,
}

impl std::fmt::Debug for StoredSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSigningKey").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

/// Where the hub keeps its signing keys.
#[async_trait]
pub trait KeyStore: Send + Sync + 'static {
    /// The stored keys, oldest first.
    async fn load(&self) -> Result<Vec<StoredSigningKey>, StoreError>;
    /// Replaces the stored keys.
    async fn save(&self, keys: &[StoredSigningKey]) -> Result<(), StoreError>;
}

/// Keys in a JSON file (`<data_dir>/signing-keys.json`), mode 0600.
pub struct FileKeyStore {
    path: PathBuf,
}

impl FileKeyStore {
    /// A key file at `path`.
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }
}

#[async_trait]
impl KeyStore for FileKeyStore {
    async fn load(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
        match tokio::fs::read(&self.path).await {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt(format!("{}: {e}", self.path.display())))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(StoreError::Unavailable(format!("{}: {e}", self.path.display()))),
        }
    }

    async fn save(&self, keys: &[StoredSigningKey]) -> Result<(), StoreError> {
        let unavailable = |e: std::io::Error| StoreError::Unavailable(format!("{}: {e}", self.path.display()));
        if let Some(parent) = self.path.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(unavailable)?;
        }
        let json = serde_json::to_vec_pretty(keys).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let temporary = self.path.with_extension("tmp");
        let mut options = tokio::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        options.mode(0o600);
        let mut file = options.open(&temporary).await.map_err(unavailable)?;
        tokio::io::AsyncWriteExt::write_all(&mut file, &json).await.map_err(unavailable)?;
        file.sync_all().await.map_err(unavailable)?;
        tokio::fs::rename(&temporary, &self.path).await.map_err(unavailable)
    }
}
