//! Assembling a hub from a configuration: the registry database (the configuration's actors
//! loaded into it), the ephemeral store, the keys, the clock. The system clock is read here and
//! nowhere else.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use relais_domain::providers::IdTokenAlgorithm;
use relais_domain::{Clock, UnixTime};
use relais_server::{AppState, HubParts};
use relais_store::{
    CachedRegistry, EncryptingStore, EphemeralStore, MemoryEphemeralStore, RedisEphemeralStore, Source, SqlStore,
};

use crate::config::{Config, EphemeralBackend, DASHBOARD_CLIENT_ID};
use relais_domain::providers::ClientAuthentication;
use relais_domain::{Claim, EidasLevel, IdpPolicy, PersonKey, Scope, ScopeSet, Sector, ServiceProvider, SpId};

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

/// How long a node reuses what it read of the registry (a registration change reaches every
/// node within it).
pub const REGISTRY_CACHE_LIFETIME: Duration = Duration::from_secs(5);

/// How often every node reloads the signing keys (a rotation reaches all nodes within it).
pub const KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(30);

/// Opens the registry database and applies its migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<SqlStore> {
    let sql = SqlStore::connect(&config.storage.database_url).await.context("storage.database_url")?;
    sql.migrate().await.context("database migrations")?;
    Ok(sql)
}

/// Loads the actors declared in the configuration into the registry. The configuration wins:
/// an actor it declares replaces the registry's entry of the same id at every start; actors
/// registered otherwise stay.
pub async fn load_configuration(sql: &SqlStore, config: &Config, now: u64) -> anyhow::Result<()> {
    for sp in &config.service_providers {
        sql.upsert_service_provider(sp, Source::Configuration, now).await?;
    }
    for (position, idp) in config.identity_providers.iter().enumerate() {
        sql.upsert_identity_provider(idp, position as i64, Source::Configuration, now).await?;
    }
    for dp in &config.data_providers {
        sql.upsert_data_provider(dp, Source::Configuration, now).await?;
    }
    sql.upsert_service_provider(&dashboard_client(config), Source::Configuration, now).await?;
    Ok(())
}

/// The hub's own dashboard, registered as a public SP of the hub (PKCE, no secret) whose sector
/// makes its `sub` the person key: the person signs in to it like to any SP.
pub fn dashboard_client(config: &Config) -> ServiceProvider {
    let issuer = config.settings.issuer.as_str().trim_end_matches('/');
    ServiceProvider {
        id: SpId::new(DASHBOARD_CLIENT_ID),
        name: "Tableau de bord Relais".into(),
        authentication: ClientAuthentication::None,
        redirect_uris: vec![format!("{issuer}{}", relais_server::DASHBOARD_CALLBACK_PATH)],
        post_logout_redirect_uris: vec![],
        scopes: ScopeSet::from_scopes([Scope::OpenId, Scope::Single(Claim::GivenName)]),
        id_token_algorithm: IdTokenAlgorithm::ES256,
        sector: Sector::new(PersonKey::SECTOR),
        idp_policy: IdpPolicy::All,
        minimum_level: EidasLevel::Low,
    }
}

/// The ephemeral store the configuration asks for; encrypted when keys are configured (always
/// with Redis: the configuration requires them).
pub fn ephemeral_store(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Arc<dyn EphemeralStore>> {
    let backend: Arc<dyn EphemeralStore> = match &config.storage.ephemeral {
        EphemeralBackend::Memory => Arc::new(MemoryEphemeralStore::new(clock)),
        EphemeralBackend::Redis { url, prefix } => Arc::new(RedisEphemeralStore::new(url, prefix)?),
    };
    if config.storage.ephemeral_keys.is_empty() {
        return Ok(backend);
    }
    Ok(Arc::new(EncryptingStore::new(backend, config.storage.ephemeral_keys.clone())?))
}

/// The hub's state for `config`, on the given stores.
pub async fn assemble_with(
    config: &Config,
    sql: SqlStore,
    ephemeral: Arc<dyn EphemeralStore>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<AppState> {
    let now = clock.now().0;
    load_configuration(&sql, config, now).await?;
    let keys = relais_server::keys::load_or_generate(&sql, &SIGNING_ALGORITHMS, now).await?;
    let parts = HubParts {
        settings: config.settings.clone(),
        registry: Arc::new(CachedRegistry::new(Arc::new(sql.clone()), REGISTRY_CACHE_LIFETIME)),
        ephemeral,
        keys,
        key_store: Arc::new(sql.clone()),
        traces: Arc::new(sql.clone()),
        preferences: Arc::new(sql),
        clock,
    };
    Ok(AppState::new(parts)?)
}

/// The hub's state for `config`, on the stores it configures.
pub async fn assemble(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    let sql = open_database(config).await?;
    let ephemeral = ephemeral_store(config, clock.clone())?;
    assemble_with(config, sql, ephemeral, clock).await
}

/// Reloads the keys every [`KEY_RELOAD_INTERVAL`], for as long as the process runs.
pub fn spawn_key_reloader(state: AppState) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(KEY_RELOAD_INTERVAL);
        interval.tick().await;
        loop {
            interval.tick().await;
            if let Err(error) = state.reload_keys().await {
                tracing::warn!(%error, "signing keys not reloaded; the previous ones stay in use");
            }
        }
    });
}
