//! In-memory traces, preferences and keys, with the same behaviour as the SQL ones (the trace
//! chain is hashed the same way): for tests of the engine without a database, and for tools.
//! A process that stops loses them; the hub itself never runs on them.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use relais_domain::preferences::Preferences;
use relais_domain::trace::{chain_hash, TraceEvent, TraceRecord, GENESIS_HASH};

use crate::keys::{KeyStore, StoredSigningKey};
use crate::portal::PortalStore;
use crate::traces::{PreferenceStore, TraceStore};
use crate::StoreError;
use relais_domain::portal::request::{HabilitationRequest, RequestState};
use relais_domain::portal::PartnerService;

pub(crate) fn locked<T, R>(mutex: &Mutex<T>, f: impl FnOnce(&mut T) -> R) -> R {
    match mutex.lock() {
        Ok(mut guard) => f(&mut guard),
        Err(poisoned) => f(&mut poisoned.into_inner()),
    }
}

/// Traces, preferences and signing keys in memory.
#[derive(Default)]
pub struct MemoryStores {
    traces: Mutex<Vec<TraceRecord>>,
    preferences: Mutex<HashMap<String, Preferences>>,
    keys: Mutex<Vec<StoredSigningKey>>,
    partner_services: Mutex<Vec<PartnerService>>,
    requests: Mutex<std::collections::BTreeMap<String, HabilitationRequest>>,
    checks: Mutex<std::collections::BTreeMap<(String, u64), bool>>,
    pub(crate) outbox: Mutex<crate::memory_outbox::MemoryOutbox>,
}

impl MemoryStores {
    /// Empty stores.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl TraceStore for MemoryStores {
    async fn append(&self, event: &TraceEvent) -> Result<TraceRecord, StoreError> {
        Ok(locked(&self.traces, |traces| {
            let (seq, previous) = traces.last().map_or((1, GENESIS_HASH.to_owned()), |r| (r.seq + 1, r.hash.clone()));
            let record = TraceRecord { seq, event: event.clone(), hash: chain_hash(&previous, seq, event) };
            traces.push(record.clone());
            record
        }))
    }

    async fn for_person(&self, person: &str, limit: u32) -> Result<Vec<TraceRecord>, StoreError> {
        Ok(locked(&self.traces, |traces| {
            traces
                .iter()
                .rev()
                .filter(|r| r.event.person.as_deref() == Some(person))
                .take(limit as usize)
                .cloned()
                .collect()
        }))
    }

    async fn all(&self) -> Result<Vec<TraceRecord>, StoreError> {
        Ok(locked(&self.traces, |traces| traces.clone()))
    }

    async fn last(&self) -> Result<Option<TraceRecord>, StoreError> {
        Ok(locked(&self.traces, |traces| traces.last().cloned()))
    }

    async fn at(&self, seq: u64) -> Result<Option<TraceRecord>, StoreError> {
        Ok(locked(&self.traces, |traces| traces.iter().find(|r| r.seq == seq).cloned()))
    }

    async fn transfer_figures(
        &self,
        since: relais_domain::UnixTime,
    ) -> Result<std::collections::BTreeMap<String, relais_domain::catalogue::Figures>, StoreError> {
        Ok(locked(&self.traces, |traces| relais_domain::catalogue::figures(traces.iter().map(|r| &r.event), since)))
    }

    async fn record_check(&self, dp: &str, minute: u64, answered: bool) -> Result<(), StoreError> {
        locked(&self.checks, |checks| {
            checks.entry((dp.to_owned(), minute)).or_insert(answered);
        });
        Ok(())
    }

    async fn availability(
        &self,
        minute: u64,
    ) -> Result<std::collections::BTreeMap<String, relais_domain::catalogue::Availability>, StoreError> {
        Ok(locked(&self.checks, |checks| {
            let mut counted = std::collections::BTreeMap::<String, relais_domain::catalogue::Availability>::new();
            for ((dp, at), answered) in checks.iter() {
                if *at >= minute {
                    let entry = counted.entry(dp.clone()).or_default();
                    entry.checks += 1;
                    entry.answered += u64::from(*answered);
                }
            }
            counted
        }))
    }
}

#[async_trait]
impl PreferenceStore for MemoryStores {
    async fn preferences(&self, person: &str) -> Result<Preferences, StoreError> {
        Ok(locked(&self.preferences, |preferences| preferences.get(person).cloned().unwrap_or_default()))
    }

    async fn set_preferences(&self, person: &str, chosen: &Preferences, _now: u64) -> Result<(), StoreError> {
        locked(&self.preferences, |preferences| preferences.insert(person.to_owned(), chosen.clone()));
        Ok(())
    }
}

#[async_trait]
impl KeyStore for MemoryStores {
    async fn load(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
        Ok(locked(&self.keys, |keys| keys.clone()))
    }

    async fn add(&self, key: &StoredSigningKey) -> Result<(), StoreError> {
        locked(&self.keys, |keys| {
            if keys.iter().any(|k| k.kid == key.kid) {
                return Err(StoreError::Unavailable(format!("key `{}` exists", key.kid)));
            }
            keys.push(key.clone());
            keys.sort_by(|a, b| (a.created_at, &a.kid).cmp(&(b.created_at, &b.kid)));
            Ok(())
        })
    }

    async fn retire(&self, kid: &str, retire_at: u64) -> Result<(), StoreError> {
        locked(&self.keys, |keys| keys.iter_mut().filter(|k| k.kid == kid).for_each(|k| k.retire_at = Some(retire_at)));
        Ok(())
    }

    async fn remove_retired(&self, now: u64) -> Result<u64, StoreError> {
        Ok(locked(&self.keys, |keys| {
            let before = keys.len();
            keys.retain(|k| k.retire_at.is_none_or(|at| at >= now));
            (before - keys.len()) as u64
        }))
    }
}

#[async_trait]
impl PortalStore for MemoryStores {
    async fn put_partner_service(&self, service: &PartnerService, _at: u64) -> Result<(), StoreError> {
        locked(&self.partner_services, |services| {
            services.retain(|known| known.id != service.id);
            services.push(service.clone());
        });
        Ok(())
    }

    async fn partner_service(&self, id: &str) -> Result<Option<PartnerService>, StoreError> {
        Ok(locked(&self.partner_services, |services| services.iter().find(|s| s.id == id).cloned()))
    }

    async fn partner_service_of_client(&self, client_id: &str) -> Result<Option<PartnerService>, StoreError> {
        Ok(locked(&self.partner_services, |services| {
            services.iter().find(|s| s.production_client_id.as_deref() == Some(client_id)).cloned()
        }))
    }

    async fn partner_services_of(&self, organisation: &str) -> Result<Vec<PartnerService>, StoreError> {
        let mut found: Vec<PartnerService> = locked(&self.partner_services, |services| {
            services.iter().filter(|s| s.organisation == organisation).cloned().collect()
        });
        found.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(found)
    }

    async fn put_request(&self, request: &HabilitationRequest, _at: u64) -> Result<(), StoreError> {
        locked(&self.requests, |requests| requests.insert(request.id.clone(), request.clone()));
        Ok(())
    }

    async fn request(&self, id: &str) -> Result<Option<HabilitationRequest>, StoreError> {
        Ok(locked(&self.requests, |requests| requests.get(id).cloned()))
    }

    async fn requests_of(&self, service: &str) -> Result<Vec<HabilitationRequest>, StoreError> {
        Ok(locked(&self.requests, |requests| requests.values().filter(|r| r.service == service).cloned().collect()))
    }

    async fn requests_in(&self, states: &[RequestState]) -> Result<Vec<HabilitationRequest>, StoreError> {
        Ok(locked(&self.requests, |requests| {
            requests.values().filter(|r| states.contains(&r.state)).cloned().collect()
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use relais_domain::trace::{verify_chain, TraceKind};
    use relais_domain::UnixTime;

    use super::*;

    #[tokio::test]
    async fn the_chain_is_the_sql_one() {
        let stores = MemoryStores::new();
        for person in ["a", "b", "a"] {
            let event = TraceEvent {
                at: UnixTime(1),
                kind: TraceKind::SignIn,
                person: Some(person.into()),
                sub: None,
                sp: None,
                idp: None,
                dp: None,
                scopes: vec![],
                outcome: "ok".into(),
                organisation: None,
                habilitation: None,
                author: None,
                reference: None,
            };
            stores.append(&event).await.unwrap();
        }
        assert!(verify_chain(&stores.all().await.unwrap()).is_empty());
        assert_eq!(stores.for_person("a", 10).await.unwrap().iter().map(|r| r.seq).collect::<Vec<_>>(), [3, 1]);
    }
}
