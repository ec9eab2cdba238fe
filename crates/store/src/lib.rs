//! Storage of Relais behind traits: the registry of actors, the ephemeral state of sign-ins
//! (sessions, pending authorizations, codes, tokens) and the hub's signing keys. Backends are
//! chosen by configuration; this crate holds the in-memory and file ones.

pub mod ephemeral;
pub mod keys;
pub mod memory;
pub mod registry;

pub use ephemeral::{EphemeralRecords, EphemeralStore, Namespace};
pub use keys::{FileKeyStore, KeyStore, StoredSigningKey};
pub use memory::MemoryEphemeralStore;
pub use registry::{Registry, StaticRegistry};

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
