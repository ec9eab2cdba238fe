//! The state shared by every handler: settings, registry, ephemeral records, keys, the
//! upstream client, the clock and the page templates. Built once; no global singletons.

use std::sync::{Arc, RwLock};

use relais_domain::Clock;
use relais_oidc::discovery::Endpoints;
use relais_oidc::jose::HubKeys;
use relais_oidc::upstream::{Upstream, UpstreamClient, UpstreamError};
use relais_store::{EphemeralRecords, EphemeralStore, KeyStore, PreferenceStore, Registry, TraceStore};

use crate::engine::support::tracer::Tracer;
use crate::metrics::{MeasuredEphemeral, MeasuredTraces, Metrics};
use crate::pages::Pages;
use crate::settings::HubSettings;

/// What the hub is made of, as the binary assembles it.
pub struct HubParts {
    /// The hub's settings.
    pub settings: HubSettings,
    /// The registry of actors.
    pub registry: Arc<dyn Registry>,
    /// The ephemeral store backend.
    pub ephemeral: Arc<dyn EphemeralStore>,
    /// The signing keys, as loaded at start.
    pub keys: HubKeys,
    /// Where they are kept (reloaded from there).
    pub key_store: Arc<dyn KeyStore>,
    /// Where traces are recorded.
    pub traces: Arc<dyn TraceStore>,
    /// Where each person's preferences are kept.
    pub preferences: Arc<dyn PreferenceStore>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
}

/// Cheap to clone: one shared pointer (axum clones the state for every extractor of every
/// request, and a clone of each field was a dozen atomic operations).
#[derive(Clone)]
pub struct AppState(Arc<Hub>);

impl std::ops::Deref for AppState {
    type Target = Hub;

    fn deref(&self) -> &Hub {
        &self.0
    }
}

/// What the handlers share.
pub struct Hub {
    pub(crate) settings: Arc<HubSettings>,
    pub(crate) endpoints: Arc<Endpoints>,
    pub(crate) registry: Arc<dyn Registry>,
    pub(crate) records: EphemeralRecords,
    keys: Arc<RwLock<Arc<HubKeys>>>,
    pub(crate) key_store: Arc<dyn KeyStore>,
    pub(crate) traces: Arc<dyn TraceStore>,
    pub(crate) tracer: Tracer,
    pub(crate) preferences: Arc<dyn PreferenceStore>,
    pub(crate) upstream: Arc<dyn Upstream>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) pages: Arc<Pages>,
    pub(crate) checkpoints: crate::checkpoints::Latest,
    pub(crate) metrics: Arc<Metrics>,
}

impl AppState {
    /// Assembles the hub, with the real client towards the identity providers.
    pub fn new(parts: HubParts) -> Result<Self, UpstreamError> {
        let endpoints = Endpoints::new(&parts.settings.issuer);
        let upstream =
            UpstreamClient::new(&endpoints.issuer, &endpoints.idp_logout_callback, parts.settings.upstream_timeouts)?;
        Ok(Self::with_upstream(parts, Arc::new(upstream)))
    }

    /// Assembles the hub with `upstream` towards the identity providers.
    pub fn with_upstream(parts: HubParts, upstream: Arc<dyn Upstream>) -> Self {
        let endpoints = Endpoints::new(&parts.settings.issuer);
        let pages = Pages::new(parts.settings.brand.clone());
        let metrics = Arc::new(Metrics::default());
        let ephemeral: Arc<dyn EphemeralStore> = Arc::new(MeasuredEphemeral::new(parts.ephemeral, metrics.clone()));
        let traces: Arc<dyn TraceStore> = Arc::new(MeasuredTraces::new(parts.traces, metrics.clone()));
        Self(Arc::new(Hub {
            settings: Arc::new(parts.settings),
            endpoints: Arc::new(endpoints),
            registry: parts.registry,
            records: EphemeralRecords::new(ephemeral),
            keys: Arc::new(RwLock::new(Arc::new(parts.keys))),
            key_store: parts.key_store,
            tracer: Tracer::new(traces.clone(), metrics.clone()),
            traces,
            preferences: parts.preferences,
            upstream,
            clock: parts.clock,
            pages: Arc::new(pages),
            checkpoints: Default::default(),
            metrics,
        }))
    }
}

impl Hub {
    /// The signing keys in use.
    pub(crate) fn keys(&self) -> Arc<HubKeys> {
        match self.keys.read() {
            Ok(keys) => keys.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reloads the keys from their store: run periodically, so that a rotation made by
    /// `relais keys rotate` reaches every node.
    pub async fn reload_keys(&self) -> Result<(), crate::keys::KeySetupError> {
        let keys = Arc::new(crate::keys::load(self.key_store.as_ref()).await?);
        match self.keys.write() {
            Ok(mut slot) => *slot = keys,
            Err(poisoned) => *poisoned.into_inner() = keys,
        }
        Ok(())
    }

    /// A subscription to every step the hub traces from now on (for webhooks and logout tokens
    /// to come, and for tests).
    pub fn subscribe_steps(&self) -> tokio::sync::broadcast::Receiver<Arc<relais_domain::step::StepEvent>> {
        self.tracer.subscribe()
    }

    /// The hub's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Whether the stores answer (for `/readyz`).
    pub async fn ready(&self) -> Result<(), relais_store::StoreError> {
        self.registry.ping().await?;
        self.records.ping().await
    }
}
