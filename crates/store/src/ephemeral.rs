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
    /// The mark of a session ended by logout, by its `sid`: its tokens are revoked.
    EndedSession,
    /// The partner portal's own sign-in in progress, by its `state`.
    PortalLogin,
    /// An agent's session on the partner portal, by session id digest.
    PortalSession,
    /// A token of the admin API made by an agent with the operator role, by token digest.
    AdminToken,
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
            Self::EndedSession => "ended-session",
            Self::PortalLogin => "portal-login",
            Self::PortalSession => "portal",
            Self::AdminToken => "admin-token",
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
        Ok(self.store.get(&ns.key(id)).await?.and_then(|bytes| decode(ns, &bytes)))
    }

    /// Removes and returns a live record, atomically.
    pub async fn take<T: DeserializeOwned>(&self, ns: Namespace, id: &str) -> Result<Option<T>, StoreError> {
        Ok(self.store.take(&ns.key(id)).await?.and_then(|bytes| decode(ns, &bytes)))
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

/// A record that does not decode (written by another version of the hub, during an upgrade)
/// is as good as expired: the person starts again, which fails closed.
fn decode<T: DeserializeOwned>(ns: Namespace, bytes: &[u8]) -> Option<T> {
    match serde_json::from_slice(bytes) {
        Ok(record) => Some(record),
        Err(error) => {
            tracing::warn!(namespace = ns.prefix(), %error, "ephemeral record of another shape: ignored");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use relais_domain::{ManualClock, UnixTime};

    use super::*;
    use crate::MemoryEphemeralStore;

    #[tokio::test]
    async fn a_record_of_another_shape_is_as_good_as_expired() {
        let store = Arc::new(MemoryEphemeralStore::new(Arc::new(ManualClock::new(UnixTime(1)))));
        let records = EphemeralRecords::new(store.clone());
        store.put(&Namespace::Session.key("s"), br#"{"pivot": "an older layout"}"#.to_vec(), 60).await.unwrap();
        #[derive(serde::Deserialize)]
        struct Current {
            #[allow(dead_code)]
            principal: String,
        }
        assert!(records.get::<Current>(Namespace::Session, "s").await.unwrap().is_none());
        assert!(records.take::<Current>(Namespace::Session, "s").await.unwrap().is_none());
        records.put(Namespace::Session, "t", &serde_json::json!({"principal": "p"}), 60).await.unwrap();
        assert!(records.get::<Current>(Namespace::Session, "t").await.unwrap().is_some());
    }
}
