//! Assembling a hub from a configuration: the registry, the ephemeral store, the keys, the
//! clock. The system clock is read here and nowhere else.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use relais_domain::providers::IdTokenAlgorithm;
use relais_domain::{Clock, UnixTime};
use relais_server::{AppState, HubParts};
use relais_store::{FileKeyStore, KeyStore, MemoryEphemeralStore, StaticRegistry};

use crate::config::Config;

/// The wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        UnixTime(SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default())
    }
}

/// The algorithms the hub holds a key for: both, always. RS256 must be in discovery
/// (OpenID Connect Discovery 1.0, section 3); ES256 is the smaller and faster choice.
pub const SIGNING_ALGORITHMS: [IdTokenAlgorithm; 2] = [IdTokenAlgorithm::RS256, IdTokenAlgorithm::ES256];

/// The hub's state for `config`, with keys from `key_store` (generated on first start).
pub async fn assemble(config: &Config, key_store: &dyn KeyStore, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    let keys = relais_server::keys::load_or_generate(key_store, &SIGNING_ALGORITHMS, clock.now().0).await?;
    let parts = HubParts {
        settings: config.settings.clone(),
        registry: Arc::new(StaticRegistry::new(config.service_providers.clone(), config.identity_providers.clone())),
        ephemeral: Arc::new(MemoryEphemeralStore::new(clock.clone())),
        keys,
        clock,
    };
    Ok(AppState::new(parts)?)
}

/// The key store under the configured data directory.
pub fn key_store(config: &Config) -> FileKeyStore {
    FileKeyStore::new(config.data_dir.join("signing-keys.json"))
}
