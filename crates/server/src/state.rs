//! The state shared by every handler: settings, registry, ephemeral records, keys, the
//! upstream client, the clock and the page templates. Built once; no global singletons.

use std::sync::Arc;

use relais_domain::Clock;
use relais_oidc::discovery::Endpoints;
use relais_oidc::jose::HubKeys;
use relais_oidc::upstream::{UpstreamClient, UpstreamError};
use relais_store::{EphemeralRecords, EphemeralStore, Registry};

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
    /// The signing keys.
    pub keys: HubKeys,
    /// The clock.
    pub clock: Arc<dyn Clock>,
}

/// Cheap to clone: every field is shared.
#[derive(Clone)]
pub struct AppState {
    pub(crate) settings: Arc<HubSettings>,
    pub(crate) endpoints: Arc<Endpoints>,
    pub(crate) registry: Arc<dyn Registry>,
    pub(crate) records: EphemeralRecords,
    pub(crate) keys: Arc<HubKeys>,
    pub(crate) upstream: Arc<UpstreamClient>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) pages: Arc<Pages>,
}

impl AppState {
    /// Assembles the hub.
    pub fn new(parts: HubParts) -> Result<Self, UpstreamError> {
        let endpoints = Endpoints::new(&parts.settings.issuer);
        let upstream = UpstreamClient::new(&endpoints.issuer, &endpoints.idp_logout_callback)?;
        Ok(Self {
            settings: Arc::new(parts.settings),
            endpoints: Arc::new(endpoints),
            registry: parts.registry,
            records: EphemeralRecords::new(parts.ephemeral),
            keys: Arc::new(parts.keys),
            upstream: Arc::new(upstream),
            clock: parts.clock,
            pages: Arc::new(Pages::new()),
        })
    }
}
