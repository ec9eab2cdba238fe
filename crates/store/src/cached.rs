//! A registry cache: the registry changes rarely and is read on every request, so each node
//! keeps what it read for a few seconds. A change reaches every node within that time; a
//! change written through the cache ([`CachedRegistry::writing_to`]) is served by this node at
//! once.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use relais_domain::agent::Habilitation;
use relais_domain::{DataProvider, IdentityProvider, ServiceProvider, SpId};

use crate::registry::{ActorRef, ConfiguredActors, DataGrant, Put, Registry, RegistryWriter, Source};
use crate::StoreError;

type Entry<T> = Option<(T, Instant)>;

/// A [`Registry`] in front of another, remembering its answers for `lifetime`.
pub struct CachedRegistry {
    inner: Arc<dyn Registry>,
    writer: Option<Arc<dyn RegistryWriter>>,
    lifetime: Duration,
    service_providers: RwLock<HashMap<SpId, (Option<ServiceProvider>, Instant)>>,
    identity_providers: RwLock<Entry<Vec<IdentityProvider>>>,
    data_providers: RwLock<Entry<Vec<DataProvider>>>,
    habilitations: RwLock<Entry<Vec<Habilitation>>>,
}

impl CachedRegistry {
    /// A cache of `inner` whose entries live `lifetime`.
    pub fn new(inner: Arc<dyn Registry>, lifetime: Duration) -> Self {
        Self {
            inner,
            writer: None,
            lifetime,
            service_providers: RwLock::new(HashMap::new()),
            identity_providers: RwLock::new(None),
            data_providers: RwLock::new(None),
            habilitations: RwLock::new(None),
        }
    }

    /// A cache of `registry` that also writes to it, forgetting what it read at each write.
    pub fn writing_to<R: Registry + RegistryWriter>(registry: Arc<R>, lifetime: Duration) -> Self {
        let mut cache = Self::new(registry.clone(), lifetime);
        cache.writer = Some(registry);
        cache
    }

    fn writer(&self) -> Result<&dyn RegistryWriter, StoreError> {
        self.writer.as_deref().ok_or_else(|| StoreError::Unavailable("this registry is read-only".into()))
    }

    /// Forgets everything read: the next reads go to the registry (after a change made by this
    /// node, so that it serves the change at once; other nodes within the lifetime).
    pub fn invalidate(&self) {
        if let Ok(mut cache) = self.service_providers.write() {
            cache.clear();
        }
        if let Ok(mut guard) = self.identity_providers.write() {
            *guard = None;
        }
        if let Ok(mut guard) = self.data_providers.write() {
            *guard = None;
        }
        if let Ok(mut guard) = self.habilitations.write() {
            *guard = None;
        }
    }

    fn fresh<T: Clone>(&self, slot: &RwLock<Entry<T>>) -> Option<T> {
        let guard = slot.read().ok()?;
        guard.as_ref().filter(|(_, at)| at.elapsed() < self.lifetime).map(|(value, _)| value.clone())
    }

    fn keep<T>(slot: &RwLock<Entry<T>>, value: T) {
        if let Ok(mut guard) = slot.write() {
            *guard = Some((value, Instant::now()));
        }
    }
}

#[async_trait]
impl Registry for CachedRegistry {
    /// Not cached: read by the operator's tools and the catalogue, not by sign-ins.
    async fn service_providers(&self) -> Result<Vec<ServiceProvider>, StoreError> {
        self.inner.service_providers().await
    }

    async fn service_provider(&self, id: &SpId) -> Result<Option<ServiceProvider>, StoreError> {
        if let Ok(cache) = self.service_providers.read() {
            if let Some((sp, at)) = cache.get(id) {
                if at.elapsed() < self.lifetime {
                    return Ok(sp.clone());
                }
            }
        }
        let sp = self.inner.service_provider(id).await?;
        if let Ok(mut cache) = self.service_providers.write() {
            // Unknown ids are cached too (bounded: a flood of made-up ids clears the cache).
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(id.clone(), (sp.clone(), Instant::now()));
        }
        Ok(sp)
    }

    async fn identity_providers(&self) -> Result<Vec<IdentityProvider>, StoreError> {
        if let Some(idps) = self.fresh(&self.identity_providers) {
            return Ok(idps);
        }
        let idps = self.inner.identity_providers().await?;
        Self::keep(&self.identity_providers, idps.clone());
        Ok(idps)
    }

    async fn data_providers(&self) -> Result<Vec<DataProvider>, StoreError> {
        if let Some(dps) = self.fresh(&self.data_providers) {
            return Ok(dps);
        }
        let dps = self.inner.data_providers().await?;
        Self::keep(&self.data_providers, dps.clone());
        Ok(dps)
    }

    /// Found in the cached list without copying it (read at each checktoken).
    async fn data_provider(&self, id: &relais_domain::DpId) -> Result<Option<DataProvider>, StoreError> {
        if let Ok(guard) = self.data_providers.read() {
            if let Some((dps, at)) = guard.as_ref() {
                if at.elapsed() < self.lifetime {
                    return Ok(dps.iter().find(|dp| &dp.id == id).cloned());
                }
            }
        }
        Ok(self.data_providers().await?.into_iter().find(|dp| &dp.id == id))
    }

    async fn habilitations(&self) -> Result<Vec<Habilitation>, StoreError> {
        if let Some(habilitations) = self.fresh(&self.habilitations) {
            return Ok(habilitations);
        }
        let habilitations = self.inner.habilitations().await?;
        Self::keep(&self.habilitations, habilitations.clone());
        Ok(habilitations)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
}

/// Each write goes to the registry, then this node forgets what it read.
#[async_trait]
impl RegistryWriter for CachedRegistry {
    async fn put_service_provider(&self, put: Put<'_, ServiceProvider>) -> Result<(), StoreError> {
        let done = self.writer()?.put_service_provider(put).await;
        self.invalidate();
        done
    }

    async fn put_identity_provider(&self, put: Put<'_, IdentityProvider>, position: i64) -> Result<(), StoreError> {
        let done = self.writer()?.put_identity_provider(put, position).await;
        self.invalidate();
        done
    }

    async fn put_data_provider(&self, put: Put<'_, DataProvider>) -> Result<(), StoreError> {
        let done = self.writer()?.put_data_provider(put).await;
        self.invalidate();
        done
    }

    async fn put_habilitation(&self, put: Put<'_, Habilitation>) -> Result<(), StoreError> {
        let done = self.writer()?.put_habilitation(put).await;
        self.invalidate();
        done
    }

    async fn put_data_grant(&self, grant: &DataGrant, at: u64) -> Result<(), StoreError> {
        let done = self.writer()?.put_data_grant(grant, at).await;
        self.invalidate();
        done
    }

    async fn source(&self, actor: ActorRef<'_>) -> Result<Option<Source>, StoreError> {
        self.writer()?.source(actor).await
    }

    async fn remove(&self, actor: ActorRef<'_>) -> Result<bool, StoreError> {
        let done = self.writer()?.remove(actor).await;
        self.invalidate();
        done
    }

    async fn remove_configured_except(&self, keep: &ConfiguredActors) -> Result<u64, StoreError> {
        let done = self.writer()?.remove_configured_except(keep).await;
        self.invalidate();
        done
    }
}
