//! A registry cache: the registry changes rarely and is read on every request, so each node
//! keeps what it read for a few seconds. A change reaches every node within that time.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use relais_domain::agent::Habilitation;
use relais_domain::{DataProvider, IdentityProvider, ServiceProvider, SpId};

use crate::registry::Registry;
use crate::StoreError;

type Entry<T> = Option<(T, Instant)>;

/// A [`Registry`] in front of another, remembering its answers for `lifetime`.
pub struct CachedRegistry {
    inner: Arc<dyn Registry>,
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
            lifetime,
            service_providers: RwLock::new(HashMap::new()),
            identity_providers: RwLock::new(None),
            data_providers: RwLock::new(None),
            habilitations: RwLock::new(None),
        }
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
