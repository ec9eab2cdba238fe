//! The registry of actors: service providers, identity providers and data providers. Read by
//! the flow ([`Registry`]), written by the configuration loader, the admin API and the partner
//! portal ([`RegistryWriter`], with typed requests, lldap's shape). Async, so that a
//! SQL backend fits the same traits; [`MemoryRegistry`] serves tests and tools.

use std::collections::BTreeMap;
use std::sync::RwLock;

use async_trait::async_trait;
use relais_domain::agent::Habilitation;
pub use relais_domain::ids::ActorRef;
use relais_domain::{DataProvider, DpId, IdentityProvider, IdpId, ServiceProvider, SpId};

use crate::StoreError;

/// Where the hub finds the actors it federates.
#[async_trait]
pub trait Registry: Send + Sync + 'static {
    /// The service provider with this `client_id`.
    async fn service_provider(&self, id: &SpId) -> Result<Option<ServiceProvider>, StoreError>;
    /// Every service provider, by `client_id` (the admin API, the catalogue).
    async fn service_providers(&self) -> Result<Vec<ServiceProvider>, StoreError>;
    /// Every identity provider, in display order (enabled or not).
    async fn identity_providers(&self) -> Result<Vec<IdentityProvider>, StoreError>;
    /// Every data provider.
    async fn data_providers(&self) -> Result<Vec<DataProvider>, StoreError>;
    /// One data provider.
    async fn data_provider(&self, id: &DpId) -> Result<Option<DataProvider>, StoreError> {
        Ok(self.data_providers().await?.into_iter().find(|dp| &dp.id == id))
    }
    /// Every habilitation, live or not.
    async fn habilitations(&self) -> Result<Vec<Habilitation>, StoreError>;
    /// Whether the backend answers (readiness).
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// One identity provider.
    async fn identity_provider(&self, id: &IdpId) -> Result<Option<IdentityProvider>, StoreError> {
        Ok(self.identity_providers().await?.into_iter().find(|idp| &idp.id == id))
    }
}

/// Where a registration came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The configuration file (loaded at every start and on `SIGHUP`; the file wins).
    Configuration,
    /// Registered at run time (self-service, admin API).
    Registered,
}

impl Source {
    /// The source as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Configuration => "configuration",
            Self::Registered => "registered",
        }
    }
}

/// A request to add or replace one actor.
#[derive(Clone, Copy, Debug)]
pub struct Put<'a, T> {
    /// The actor, as the registration rules accepted it.
    pub actor: &'a T,
    /// Where it comes from.
    pub source: Source,
    /// When (seconds since the epoch).
    pub at: u64,
}

impl<'a, T> Put<'a, T> {
    /// The actor of the configuration file, at `at`.
    pub fn configured(actor: &'a T, at: u64) -> Self {
        Self { actor, source: Source::Configuration, at }
    }
}

/// Data scopes of one provider granted to one registered service (by the partner portal), kept
/// apart from the provider's registration and read merged into its allow-list
/// ([`DataProvider::allowed`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataGrant {
    /// The service.
    pub sp: SpId,
    /// The provider.
    pub dp: DpId,
    /// Its scopes granted.
    pub scopes: Vec<String>,
}

/// `grants` merged into the allow-lists of `providers`.
pub fn with_grants(mut providers: Vec<DataProvider>, grants: &[DataGrant]) -> Vec<DataProvider> {
    for grant in grants {
        if let Some(dp) = providers.iter_mut().find(|dp| dp.id == grant.dp) {
            let allowed = dp.allowed.entry(grant.sp.clone()).or_default();
            for scope in &grant.scopes {
                if !allowed.contains(scope) && dp.scopes.iter().any(|known| &known.name == scope) {
                    allowed.push(scope.clone());
                }
            }
        }
    }
    providers
}

/// The actors a configuration file declares: the others it declared before are removed.
#[derive(Clone, Debug, Default)]
pub struct ConfiguredActors {
    /// Its service providers (the hub's own dashboard included).
    pub service_providers: Vec<SpId>,
    /// Its identity providers.
    pub identity_providers: Vec<IdpId>,
    /// Its data providers.
    pub data_providers: Vec<DpId>,
    /// Its habilitations.
    pub habilitations: Vec<String>,
}

/// How the registry is changed.
#[async_trait]
pub trait RegistryWriter: Send + Sync + 'static {
    /// Adds or replaces a service provider.
    async fn put_service_provider(&self, put: Put<'_, ServiceProvider>) -> Result<(), StoreError>;
    /// Adds or replaces an identity provider, at `position` on the choice page.
    async fn put_identity_provider(&self, put: Put<'_, IdentityProvider>, position: i64) -> Result<(), StoreError>;
    /// Adds or replaces a data provider.
    async fn put_data_provider(&self, put: Put<'_, DataProvider>) -> Result<(), StoreError>;
    /// Adds or replaces a habilitation.
    async fn put_habilitation(&self, put: Put<'_, Habilitation>) -> Result<(), StoreError>;
    /// Grants data scopes to a registered service (replacing its grant at that provider; no
    /// scope: the grant is removed).
    async fn put_data_grant(&self, grant: &DataGrant, at: u64) -> Result<(), StoreError>;
    /// Where `actor` came from, if it is registered.
    async fn source(&self, actor: ActorRef<'_>) -> Result<Option<Source>, StoreError>;
    /// Removes `actor` (a service with its data grants); whether it was there.
    async fn remove(&self, actor: ActorRef<'_>) -> Result<bool, StoreError>;
    /// Removes the actors that came from the configuration and are not in `keep`; how many.
    /// Actors registered otherwise stay.
    async fn remove_configured_except(&self, keep: &ConfiguredActors) -> Result<u64, StoreError>;
}

#[derive(Default)]
struct Actors {
    service_providers: BTreeMap<SpId, (ServiceProvider, Source)>,
    identity_providers: BTreeMap<IdpId, (i64, IdentityProvider, Source)>,
    data_providers: BTreeMap<DpId, (DataProvider, Source)>,
    habilitations: BTreeMap<String, (Habilitation, Source)>,
    grants: BTreeMap<(SpId, DpId), Vec<String>>,
}

/// A registry in memory, readable and writable: for tests of the engine and for tools.
#[derive(Default)]
pub struct MemoryRegistry {
    actors: RwLock<Actors>,
}

impl MemoryRegistry {
    /// A registry of these actors, as if configured.
    pub fn new(
        service_providers: Vec<ServiceProvider>,
        identity_providers: Vec<IdentityProvider>,
        data_providers: Vec<DataProvider>,
    ) -> Self {
        let configured = Source::Configuration;
        let actors = Actors {
            service_providers: service_providers.into_iter().map(|sp| (sp.id.clone(), (sp, configured))).collect(),
            identity_providers: identity_providers
                .into_iter()
                .enumerate()
                .map(|(position, idp)| (idp.id.clone(), (position as i64, idp, configured)))
                .collect(),
            data_providers: data_providers.into_iter().map(|dp| (dp.id.clone(), (dp, configured))).collect(),
            habilitations: BTreeMap::new(),
            grants: BTreeMap::new(),
        };
        Self { actors: RwLock::new(actors) }
    }

    fn read<T>(&self, f: impl FnOnce(&Actors) -> T) -> T {
        match self.actors.read() {
            Ok(actors) => f(&actors),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }

    fn write<T>(&self, f: impl FnOnce(&mut Actors) -> T) -> T {
        match self.actors.write() {
            Ok(mut actors) => f(&mut actors),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }
}

#[async_trait]
impl Registry for MemoryRegistry {
    async fn service_providers(&self) -> Result<Vec<ServiceProvider>, StoreError> {
        Ok(self.read(|a| a.service_providers.values().map(|(sp, _)| sp.clone()).collect()))
    }

    async fn service_provider(&self, id: &SpId) -> Result<Option<ServiceProvider>, StoreError> {
        Ok(self.read(|a| a.service_providers.get(id).map(|(sp, _)| sp.clone())))
    }

    async fn identity_providers(&self) -> Result<Vec<IdentityProvider>, StoreError> {
        let mut idps = self.read(|a| a.identity_providers.values().cloned().collect::<Vec<_>>());
        idps.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
        Ok(idps.into_iter().map(|(_, idp, _)| idp).collect())
    }

    async fn data_providers(&self) -> Result<Vec<DataProvider>, StoreError> {
        Ok(self.read(|a| {
            let grants: Vec<DataGrant> = a
                .grants
                .iter()
                .map(|((sp, dp), scopes)| DataGrant { sp: sp.clone(), dp: dp.clone(), scopes: scopes.clone() })
                .collect();
            with_grants(a.data_providers.values().map(|(dp, _)| dp.clone()).collect(), &grants)
        }))
    }

    async fn habilitations(&self) -> Result<Vec<Habilitation>, StoreError> {
        Ok(self.read(|a| a.habilitations.values().map(|(h, _)| h.clone()).collect()))
    }
}

#[async_trait]
impl RegistryWriter for MemoryRegistry {
    async fn put_service_provider(&self, put: Put<'_, ServiceProvider>) -> Result<(), StoreError> {
        self.write(|a| a.service_providers.insert(put.actor.id.clone(), (put.actor.clone(), put.source)));
        Ok(())
    }

    async fn put_identity_provider(&self, put: Put<'_, IdentityProvider>, position: i64) -> Result<(), StoreError> {
        self.write(|a| a.identity_providers.insert(put.actor.id.clone(), (position, put.actor.clone(), put.source)));
        Ok(())
    }

    async fn put_data_provider(&self, put: Put<'_, DataProvider>) -> Result<(), StoreError> {
        self.write(|a| a.data_providers.insert(put.actor.id.clone(), (put.actor.clone(), put.source)));
        Ok(())
    }

    async fn put_habilitation(&self, put: Put<'_, Habilitation>) -> Result<(), StoreError> {
        self.write(|a| a.habilitations.insert(put.actor.id.clone(), (put.actor.clone(), put.source)));
        Ok(())
    }

    async fn source(&self, actor: ActorRef<'_>) -> Result<Option<Source>, StoreError> {
        Ok(self.read(|a| match actor {
            ActorRef::ServiceProvider(id) => a.service_providers.get(id).map(|(_, source)| *source),
            ActorRef::IdentityProvider(id) => a.identity_providers.get(id).map(|(_, _, source)| *source),
            ActorRef::DataProvider(id) => a.data_providers.get(id).map(|(_, source)| *source),
            ActorRef::Habilitation(id) => a.habilitations.get(id).map(|(_, source)| *source),
        }))
    }

    async fn put_data_grant(&self, grant: &DataGrant, _at: u64) -> Result<(), StoreError> {
        self.write(|a| {
            let key = (grant.sp.clone(), grant.dp.clone());
            if grant.scopes.is_empty() {
                a.grants.remove(&key);
            } else {
                a.grants.insert(key, grant.scopes.clone());
            }
        });
        Ok(())
    }

    async fn remove(&self, actor: ActorRef<'_>) -> Result<bool, StoreError> {
        Ok(self.write(|a| match actor {
            ActorRef::ServiceProvider(id) => {
                a.grants.retain(|(sp, _), _| sp != id);
                a.service_providers.remove(id).is_some()
            }
            ActorRef::IdentityProvider(id) => a.identity_providers.remove(id).is_some(),
            ActorRef::DataProvider(id) => a.data_providers.remove(id).is_some(),
            ActorRef::Habilitation(id) => a.habilitations.remove(id).is_some(),
        }))
    }

    async fn remove_configured_except(&self, keep: &ConfiguredActors) -> Result<u64, StoreError> {
        Ok(self.write(|a| {
            let before =
                a.service_providers.len() + a.identity_providers.len() + a.data_providers.len() + a.habilitations.len();
            a.service_providers
                .retain(|id, (_, source)| *source != Source::Configuration || keep.service_providers.contains(id));
            a.identity_providers
                .retain(|id, (_, _, source)| *source != Source::Configuration || keep.identity_providers.contains(id));
            a.data_providers
                .retain(|id, (_, source)| *source != Source::Configuration || keep.data_providers.contains(id));
            a.habilitations
                .retain(|id, (_, source)| *source != Source::Configuration || keep.habilitations.contains(id));
            let after =
                a.service_providers.len() + a.identity_providers.len() + a.data_providers.len() + a.habilitations.len();
            (before - after) as u64
        }))
    }
}
