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
    CachedRegistry, ConfiguredActors, EncryptingStore, EphemeralStore, MemoryEphemeralStore, OutboxStore, Put,
    RedisEphemeralStore, RegistryWriter, SqlStore,
};

use crate::config::{Config, EphemeralBackend, DASHBOARD_CLIENT_ID};
use relais_domain::agent::AgentClaim;
use relais_domain::providers::ClientAuthentication;
use relais_domain::{Claim, EidasLevel, IdpPolicy, PersonKey, Profile, Scope, ScopeSet, Sector, ServiceProvider, SpId};

/// The wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    // The one place the hub reads the wall clock (clippy's `disallowed-methods` elsewhere).
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> UnixTime {
        UnixTime(SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default())
    }
}

/// The algorithms the hub holds a key for: both, always. RS256 must be in discovery
/// (OpenID Connect Discovery 1.0, section 3); ES256 is the smaller and faster choice.
pub use relais_server::keys::SIGNING_ALGORITHMS;

/// How long a node reuses what it read of the registry (a registration change reaches every
/// node within it).
pub const REGISTRY_CACHE_LIFETIME: Duration = Duration::from_secs(5);

/// How often every node reloads the signing keys (a rotation reaches all nodes within it).
pub const KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(30);

/// Opens the registry database (its secrets sealed with the configured key-encryption keys),
/// applies its migrations and seals what an earlier version left in clear.
pub async fn open_database(config: &Config) -> anyhow::Result<SqlStore> {
    let sql = SqlStore::connect(&config.storage.database_url)
        .await
        .context("storage.database_url")?
        .with_sealing(config.storage.key_encryption.clone());
    sql.migrate().await.context("database migrations")?;
    let sealed = sql.seal_legacy_keys().await.context("sealing the signing keys")?;
    if sealed > 0 {
        tracing::info!(sealed, "signing keys stored in clear by an earlier version are now sealed");
    }
    Ok(sql)
}

/// Loads the actors declared in the configuration into the registry. The configuration wins:
/// an actor it declares replaces the registry's entry of the same id, and an actor it declared
/// before and no longer does is removed; actors registered otherwise stay. Run at every start
/// and on `SIGHUP`.
pub async fn load_configuration(registry: &dyn RegistryWriter, config: &Config, now: u64) -> anyhow::Result<()> {
    let own =
        std::iter::once(dashboard_client(config)).chain(config.settings.portal.as_ref().map(|_| portal_client(config)));
    let own: Vec<ServiceProvider> = own.collect();
    let mut keep = ConfiguredActors::default();
    for sp in config.service_providers.iter().chain(&own) {
        registry.put_service_provider(Put::configured(sp, now)).await?;
        keep.service_providers.push(sp.id.clone());
    }
    for (position, idp) in config.identity_providers.iter().enumerate() {
        registry.put_identity_provider(Put::configured(idp, now), position as i64).await?;
        keep.identity_providers.push(idp.id.clone());
    }
    for dp in &config.data_providers {
        registry.put_data_provider(Put::configured(dp, now)).await?;
        keep.data_providers.push(dp.id.clone());
    }
    for habilitation in &config.habilitations {
        registry.put_habilitation(Put::configured(habilitation, now)).await?;
        keep.habilitations.push(habilitation.id.clone());
    }
    let removed = registry.remove_configured_except(&keep).await?;
    if removed > 0 {
        tracing::info!(removed, "actors no longer in the configuration removed from the registry");
    }
    Ok(())
}

/// Loads the subscriptions declared in the configuration into the outbox, as
/// [`load_configuration`] does the actors (the file wins; those it no longer declares go,
/// their pending messages given up; those registered otherwise stay).
pub async fn load_subscriptions(outbox: &dyn OutboxStore, config: &Config, now: u64) -> anyhow::Result<()> {
    for subscription in &config.webhooks {
        outbox.put_subscription(subscription, relais_store::Source::Configuration, now).await?;
    }
    let keep: Vec<String> = config.webhooks.iter().map(|s| s.id.clone()).collect();
    let removed = outbox.remove_configured_subscriptions_except(&keep, now).await?;
    if removed > 0 {
        tracing::info!(removed, "webhook subscriptions no longer in the configuration removed");
    }
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
        // The person reference: the `sub`s of the administrations told of a change of address
        // are derived from it (sealed; it lives in the dashboard session only).
        scopes: ScopeSet::from_scopes([Scope::OpenId, Scope::Single(Claim::GivenName), Scope::PersonReference]),
        id_token_algorithm: IdTokenAlgorithm::ES256,
        sector: Sector::new(PersonKey::SECTOR),
        idp_policy: IdpPolicy::All,
        minimum_level: EidasLevel::Low,
        profile: Profile::Citizen,
        agent_claims: Vec::new(),
        public_agents_only: false,
    }
}

/// The partner portal, registered as a public agent service of the hub (PKCE, no secret):
/// agents sign in to it through the agent federation like to any agent service.
pub fn portal_client(config: &Config) -> ServiceProvider {
    let issuer = config.settings.issuer.as_str().trim_end_matches('/');
    let claims = [
        AgentClaim::Email,
        AgentClaim::GivenName,
        AgentClaim::UsualName,
        AgentClaim::Siret,
        AgentClaim::OrganizationLabel,
    ];
    ServiceProvider {
        id: SpId::new(relais_domain::portal::PORTAL_CLIENT_ID),
        name: "Espace partenaires".into(),
        authentication: ClientAuthentication::None,
        redirect_uris: vec![format!("{issuer}{}", relais_server::PORTAL_CALLBACK_PATH)],
        post_logout_redirect_uris: vec![],
        scopes: ScopeSet::from_scopes([Scope::OpenId]),
        id_token_algorithm: IdTokenAlgorithm::ES256,
        sector: Sector::new(relais_domain::portal::PORTAL_CLIENT_ID),
        idp_policy: IdpPolicy::All,
        minimum_level: EidasLevel::Low,
        profile: Profile::Agent,
        agent_claims: claims.to_vec(),
        public_agents_only: false,
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
    Ok(assemble_hub(config, sql, ephemeral, clock).await?.state)
}

/// A hub assembled: its state, and what reloading its configuration needs.
pub struct Hub {
    /// The state the router serves.
    pub state: AppState,
    /// The registry database.
    pub sql: SqlStore,
    /// This node's cache of it.
    pub cache: Arc<CachedRegistry>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
}

impl Hub {
    /// Loads the actors of `config` (a configuration file read again) into the registry and
    /// forgets this node's cached reads, so it serves the change at once (the other nodes
    /// within [`REGISTRY_CACHE_LIFETIME`]). Settings other than the actors need a restart.
    pub async fn reload(&self, config: &Config) -> anyhow::Result<()> {
        load_configuration(&self.sql, config, self.clock.now().0).await?;
        load_subscriptions(&self.sql, config, self.clock.now().0).await?;
        self.cache.invalidate();
        Ok(())
    }
}

/// The hub for `config`, on the given stores.
pub async fn assemble_hub(
    config: &Config,
    sql: SqlStore,
    ephemeral: Arc<dyn EphemeralStore>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Hub> {
    let now = clock.now().0;
    load_configuration(&sql, config, now).await?;
    load_subscriptions(&sql, config, now).await?;
    let keys = relais_server::keys::load_or_generate(&sql, &SIGNING_ALGORITHMS, now).await?;
    let cache = Arc::new(CachedRegistry::writing_to(Arc::new(sql.clone()), REGISTRY_CACHE_LIFETIME));
    let parts = HubParts {
        settings: config.settings.clone(),
        registry: cache.clone(),
        registry_writer: cache.clone(),
        ephemeral,
        keys,
        key_store: Arc::new(sql.clone()),
        traces: Arc::new(sql.clone()),
        preferences: Arc::new(sql.clone()),
        portal: Arc::new(sql.clone()),
        outbox: Arc::new(sql.clone()),
        clock: clock.clone(),
    };
    let state = AppState::new(parts)?;
    let batches = state.metrics().trace_batch();
    sql.observe_trace_batches(Box::new(move |records| batches.observe(records as f64)));
    Ok(Hub { state, sql, cache, clock })
}

/// The hub's state for `config`, on the stores it configures.
pub async fn assemble(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Hub> {
    let sql = open_database(config).await?;
    let ephemeral = ephemeral_store(config, clock.clone())?;
    assemble_hub(config, sql, ephemeral, clock).await
}

/// How often a signed checkpoint of the trace chain is made (and once more at shutdown).
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(60);

/// Makes a trace checkpoint at once, then every [`CHECKPOINT_INTERVAL`].
pub fn spawn_checkpointer(state: AppState) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(CHECKPOINT_INTERVAL);
        loop {
            interval.tick().await;
            if let Err(error) = state.checkpoint_traces().await {
                tracing::warn!(target: "relais::checkpoint", %error, "no trace checkpoint this time");
            }
        }
    });
}

/// How long the notifications' sender waits when nothing was due.
pub const WEBHOOK_IDLE_INTERVAL: Duration = Duration::from_secs(1);

/// How often the finished notifications older than 30 days are forgotten.
pub const WEBHOOK_PURGE_INTERVAL: Duration = Duration::from_secs(3_600);

/// Delivers the notifications of the outbox for as long as the process runs: a pass at once
/// after a full one, else every [`WEBHOOK_IDLE_INTERVAL`]. Every node runs one; the leases of
/// the outbox keep them from sending the same message at the same time. Every hour it also
/// forgets what finished more than 30 days ago.
pub fn spawn_webhook_sender(state: AppState) {
    tokio::spawn(async move {
        let client = relais_server::engine::notifications::sender::client();
        let mut last_purge: Option<std::time::Instant> = None;
        loop {
            if last_purge.is_none_or(|at| at.elapsed() >= WEBHOOK_PURGE_INTERVAL) {
                last_purge = Some(std::time::Instant::now());
                if let Err(error) = state.purge_notifications().await {
                    tracing::warn!(target: "relais::webhooks", %error, "finished notifications not purged this time");
                }
            }
            let full = match state.deliver_notifications(&client).await {
                Ok(pass) => pass.claimed() >= relais_server::engine::notifications::sender::BATCH as usize,
                Err(error) => {
                    tracing::warn!(target: "relais::webhooks", %error, "notifications not delivered this time");
                    false
                }
            };
            if !full {
                tokio::time::sleep(WEBHOOK_IDLE_INTERVAL).await;
            }
        }
    });
}

/// How often the data providers' `status_url`s are checked (the catalogue's availability).
pub const PROVIDER_CHECK_INTERVAL: Duration = Duration::from_secs(60);

/// Checks the data providers at once, then every [`PROVIDER_CHECK_INTERVAL`].
pub fn spawn_provider_checker(state: AppState) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(PROVIDER_CHECK_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            interval.tick().await;
            if let Err(error) = state.check_providers().await {
                tracing::warn!(target: "relais::catalogue", %error, "data providers not checked this time");
            }
        }
    });
}

/// Completes on `SIGTERM` or `SIGINT` (Ctrl+C). The handlers are installed when this is
/// called, not when the future is first polled: `axum` polls its shutdown future in a task of
/// its own, which may not have run yet when the first requests are served, and a `SIGTERM`
/// before the handler exists would kill the process without its last checkpoint.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let terminate = signal(SignalKind::terminate());
        let interrupt = signal(SignalKind::interrupt());
        async move {
            match (terminate, interrupt) {
                (Ok(mut terminate), Ok(mut interrupt)) => {
                    tokio::select! {
                        _ = terminate.recv() => {}
                        _ = interrupt.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
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

/// Reloads the configuration file at `path` on every `SIGHUP`, for as long as the process
/// runs: its actors replace the registry's (sign-ins in progress go on: their records are in
/// the ephemeral store). A file that does not load is refused with a log line, and the hub
/// keeps serving what it had.
pub fn spawn_configuration_reloader(hub: Arc<Hub>, path: std::path::PathBuf) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(stream) => stream,
            Err(error) => {
                tracing::warn!(%error, "SIGHUP cannot be received: the configuration reloads only at start");
                return;
            }
        };
        while hangups.recv().await.is_some() {
            match crate::config::Config::load(&path, &crate::config::process_env) {
                Ok(config) => match hub.reload(&config).await {
                    Ok(()) => tracing::info!(config = %path.display(), "configuration reloaded"),
                    Err(error) => tracing::error!(error = %format!("{error:#}"), "configuration not reloaded"),
                },
                Err(error) => tracing::error!(%error, "configuration not reloaded: the file does not load"),
            }
        }
    });
    #[cfg(not(unix))]
    let _ = (hub, path);
}

/// `relais check-config --online`: fetches every configured IdP's discovery document and keys,
/// as the hub would at its first sign-in there, and prints a line for each (what it offers
/// the hub, or the step that failed and why); the number that failed.
pub async fn check_identity_providers(config: &Config) -> anyhow::Result<usize> {
    use relais_oidc::discovery::Endpoints;
    use relais_oidc::upstream::UpstreamClient;
    let endpoints = Endpoints::new(&config.settings.issuer);
    let client =
        UpstreamClient::new(&endpoints.issuer, &endpoints.idp_logout_callback, config.settings.upstream_timeouts)?;
    let mut failed = 0;
    for idp in &config.identity_providers {
        match client.check(idp).await {
            Ok(check) => {
                let yes_no = |b: bool| if b { "yes" } else { "no" };
                let mut warnings = Vec::new();
                if !check.auth_method_supported {
                    warnings.push(format!(
                        "it does not list the configured token_endpoint_auth_method {}",
                        idp.token_auth.name()
                    ));
                }
                if check.acr_supported == Some(false) {
                    warnings.push(format!("its acr_values_supported do not include {}", idp.level.as_acr()));
                }
                println!(
                    "{}: ok ({}): keys {}; end-session {}; iss in answers (RFC 9207) {}{}",
                    idp.id,
                    idp.issuer,
                    if check.keys.is_empty() { "none".to_owned() } else { check.keys.join(", ") },
                    yes_no(check.end_session),
                    yes_no(check.sends_iss),
                    warnings.iter().map(|w| format!("; warning: {w}")).collect::<String>(),
                );
            }
            Err(error) => {
                failed += 1;
                println!("{}: FAILED ({}): {error}", idp.id, idp.issuer);
            }
        }
    }
    Ok(failed)
}
