//! Storage of Relais behind traits: the registry of actors, the ephemeral state of sign-ins
//! (sessions, pending authorizations, codes, tokens) and the hub's signing keys. Backends are
//! chosen by configuration: SQLite or PostgreSQL for the registry and keys; memory or Redis
//! (encrypted) for the ephemeral state.

pub mod cached;
pub mod encrypted;
pub mod ephemeral;
pub mod keys;
pub mod memory;
mod memory_outbox;
pub mod memory_stores;
pub mod outbox;
pub mod portal;
pub mod records;
pub mod redis;
pub mod registry;
pub mod sealing;
pub mod sql;
mod sql_outbox;
mod sql_writer;
pub mod traces;

pub use cached::CachedRegistry;
pub use encrypted::EncryptingStore;
pub use ephemeral::{EphemeralRecords, EphemeralStore, Namespace};
pub use keys::{KeyStore, StoredSigningKey};
pub use memory::MemoryEphemeralStore;
pub use memory_stores::MemoryStores;
pub use outbox::{DueMessage, MessageSummary, NewMessage, OutboxStore, Outcome, SubscriptionRecord};
pub use portal::PortalStore;
pub use redis::RedisEphemeralStore;
pub use registry::{ActorRef, ConfiguredActors, DataGrant, MemoryRegistry, Put, Registry, RegistryWriter, Source};
/// The keys of the ephemeral entries sent to Redis are sealing keys.
pub use sealing::SealingKey as EphemeralKey;
pub use sealing::{KeyRing, SealingKey};
pub use sql::{BatchObserver, SqlStore};
pub use traces::{PreferenceStore, TraceStore};

/// A storage failure. The hub fails closed on any of them.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached or refused the operation.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A stored value could not be read back.
    #[error("stored value unreadable: {0}")]
    Corrupt(String),
}
