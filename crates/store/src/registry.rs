//! The registry of actors: service providers and identity providers. Async, so that a SQL
//! backend fits the same trait; the static one serves a configuration file's declarations.

use std::collections::HashMap;

use async_trait::async_trait;
use relais_domain::{DataProvider, DpId, IdentityProvider, IdpId, ServiceProvider, SpId};

use crate::StoreError;

/// Where the hub finds the actors it federates.
#[async_trait]
pub trait Registry: Send + Sync + 'static {
    /// The service provider with this `client_id`.
    async fn service_provider(&self, id: &SpId) -> Result<Option<ServiceProvider>, StoreError>;
    /// Every identity provider, in display order (enabled or not).
    async fn identity_providers(&self) -> Result<Vec<IdentityProvider>, StoreError>;
    /// Every data provider.
    async fn data_providers(&self) -> Result<Vec<DataProvider>, StoreError>;
    /// One data provider.
    async fn data_provider(&self, id: &DpId) -> Result<Option<DataProvider>, StoreError> {
        Ok(self.data_providers().await?.into_iter().find(|dp| &dp.id == id))
    }
    /// Whether the backend answers (readiness).
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// One identity provider.
    async fn identity_provider(&self, id: &IdpId) -> Result<Option<IdentityProvider>, StoreError> {
        Ok(self.identity_providers().await?.into_iter().find(|idp| &idp.id == id))
    }
}

/// A registry fixed at start, from the configuration.
pub struct StaticRegistry {
    service_providers: HashMap<SpId, ServiceProvider>,
    identity_providers: Vec<IdentityProvider>,
    data_providers: Vec<DataProvider>,
}

impl StaticRegistry {
    /// A registry of these actors.
    pub fn new(
        service_providers: Vec<ServiceProvider>,
        identity_providers: Vec<IdentityProvider>,
        data_providers: Vec<DataProvider>,
    ) -> Self {
        Self {
            service_providers: service_providers.into_iter().map(|sp| (sp.id.clone(), sp)).collect(),
            identity_providers,
            data_providers,
        }
    }
}

#[async_trait]
impl Registry for StaticRegistry {
    async fn service_provider(&self, id: &SpId) -> Result<Option<ServiceProvider>, StoreError> {
        Ok(self.service_providers.get(id).cloned())
    }

    async fn identity_providers(&self) -> Result<Vec<IdentityProvider>, StoreError> {
        Ok(self.identity_providers.clone())
    }

    async fn data_providers(&self) -> Result<Vec<DataProvider>, StoreError> {
        Ok(self.data_providers.clone())
    }
}
