//! Ephemeral state: short-lived entries with a lifetime enforced by the store itself, and an
//! atomic take for everything that must be used once (codes, upstream states).

use std::sync::Arc;

use async_trait::async_trait;
use serde::{de::DeserializeOwned, Serialize};

use crate::StoreError;

/// A key-value store whose entries expire. Implementations must make `take` atomic: two
/// callers taking the same key at once get the value at most once between them.
#[async_trait]
pub trait EphemeralStore: Send + Sync + 'static {
    /// Stores `value` under `key` for `ttl_seconds`, replacing any previous value.
    async fn put(&self, key: &str, value: Vec<u8>, ttl_seconds: u64) -> Result<(), StoreError>;
    /// Stores `value` only if `key` is absent; whether it was stored.
    async fn put_if_absent(&self, key: &str, value: Vec<u8>, ttl_seconds: u64) -> Result<bool, StoreError>;
    /// The live value under `key`.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Removes and returns the live value under `key`, atomically.
    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Removes `key`.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Whether the backend answers (readiness).
    async fn ping(&self) -> Result<(), StoreError>;
}

/// The kinds of ephemeral records, each in its own key space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Namespace {
    /// A pending authorization, by flow id.
    PendingAuthorization,
    /// The hub's sign-in at an IdP, by the hub's upstream `state`.
    UpstreamLogin,
    /// A hub session, by session id digest.
    Session,
    /// An authorization code, by code digest.
    Code,
    /// A redeemed code, by code digest (replay detection).
    RedeemedCode,
    /// An access token, by token digest.
    AccessToken,
    /// A client assertion's `jti`, against replay.
    ClientAssertion,
    /// A logout in progress at an IdP, by the hub's logout `state`.
    Logout,
    /// A sign-in waiting for consent to data transfers, by flow id.
    Consent,
    /// The dashboard's own sign-in in progress, by its `state`.
    DashboardLogin,
    /// A person's dashboard session, by session id digest.
    DashboardSession,
    /// The mark that a person changed their preferences, by person key: kept as long as a
    /// session opened before the change can live.
    PreferencesChanged,
}

impl Namespace {
    fn prefix(self) -> &'static str {
        match self {
            Self::PendingAuthorization => "pending",
            Self::UpstreamLogin => "upstream",
            Self::Session => "session",
            Self::Code => "code",
            Self::RedeemedCode => "redeemed",
            Self::AccessToken => "access",
            Self::ClientAssertion => "jti",
            Self::Logout => "logout",
            Self::Consent => "consent",
            Self::DashboardLogin => "dashboard-login",
            Self::DashboardSession => "dashboard",
            Self::PreferencesChanged => "preferences-changed",
        }
    }

    fn key(self, id: &str) -> String {
        format!("relais:{}:{id}", self.prefix())
    }
}

/// Typed access to an [`EphemeralStore`]: records are serialised as JSON under a namespaced key.
#[derive(Clone)]
pub struct EphemeralRecords {
    store: Arc<dyn EphemeralStore>,
}

impl EphemeralRecords {
    /// Wraps a backend.
    pub fn new(store: Arc<dyn EphemeralStore>) -> Self {
        Self { store }
    }

    /// Stores a record for `ttl_seconds`.
    pub async fn put<T: Serialize + Sync>(
        &self,
        ns: Namespace,
        id: &str,
        record: &T,
        ttl_seconds: u64,
    ) -> Result<(), StoreError> {
        self.store.put(&ns.key(id), encode(record)?, ttl_seconds).await
    }

    /// Stores a record unless one exists; whether it was stored.
    pub async fn put_if_absent<T: Serialize + Sync>(
        &self,
        ns: Namespace,
        id: &str,
        record: &T,
        ttl_seconds: u64,
    ) -> Result<bool, StoreError> {
        self.store.put_if_absent(&ns.key(id), encode(record)?, ttl_seconds).await
    }

    /// Reads a live record.
    pub async fn get<T: DeserializeOwned>(&self, ns: Namespace, id: &str) -> Result<Option<T>, StoreError> {
        self.store.get(&ns.key(id)).await?.map(|bytes| decode(&bytes)).transpose()
    }

    /// Removes and returns a live record, atomically.
    pub async fn take<T: DeserializeOwned>(&self, ns: Namespace, id: &str) -> Result<Option<T>, StoreError> {
        self.store.take(&ns.key(id)).await?.map(|bytes| decode(&bytes)).transpose()
    }

    /// Removes a record.
    pub async fn delete(&self, ns: Namespace, id: &str) -> Result<(), StoreError> {
        self.store.delete(&ns.key(id)).await
    }

    /// Whether the backend answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }
}

fn encode<T: Serialize>(record: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(record).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))
}
