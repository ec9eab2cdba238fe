//! The in-memory ephemeral store: the one-machine default. Expiry follows the injected clock.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use relais_domain::{Clock, UnixTime};

use crate::{EphemeralStore, StoreError};

struct Entry {
    value: Vec<u8>,
    expires_at: UnixTime,
}

/// The entries, and their keys by the second they expire: each write removes what has expired
/// since the last one, a cost in proportion to what expired rather than to what is held (a
/// sweep of the whole map, as before, grew with the tokens of the last hour).
#[derive(Default)]
struct Entries {
    live: HashMap<Arc<str>, Entry>,
    /// The keys are shared with `live`, not copied. A key may stay here after its entry was
    /// taken, deleted or written again with a later expiry: when its second comes, it is
    /// removed only if its entry has expired.
    expiries: BTreeMap<u64, Vec<Arc<str>>>,
}

impl Entries {
    fn remove_expired(&mut self, now: UnixTime) {
        while let Some(bucket) = self.expiries.first_entry() {
            if now.is_before(UnixTime(*bucket.key())) {
                break;
            }
            for key in bucket.remove() {
                if self.live.get(&key).is_some_and(|entry| !now.is_before(entry.expires_at)) {
                    self.live.remove(&key);
                }
            }
        }
    }
}

/// Entries in a map behind one lock; expired entries are invisible and removed as writes go.
pub struct MemoryEphemeralStore {
    clock: Arc<dyn Clock>,
    entries: Mutex<Entries>,
    max_entries: usize,
}

/// Default bound on live entries: far above one machine's sign-ins in flight, far below its
/// memory. Past it the store refuses writes (the hub fails closed) instead of growing.
pub const DEFAULT_MAX_ENTRIES: usize = 2_000_000;

impl MemoryEphemeralStore {
    /// An empty store reading time from `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self::with_max_entries(clock, DEFAULT_MAX_ENTRIES)
    }

    /// An empty store holding at most `max_entries` live entries.
    pub fn with_max_entries(clock: Arc<dyn Clock>, max_entries: usize) -> Self {
        Self { clock, entries: Mutex::new(Entries::default()), max_entries }
    }

    fn lock(&self) -> Result<MutexGuard<'_, Entries>, StoreError> {
        self.entries.lock().map_err(|_| StoreError::Unavailable("memory store lock poisoned".into()))
    }

    fn insert(&self, entries: &mut Entries, key: &str, value: Vec<u8>, ttl: u64) -> Result<(), StoreError> {
        let now = self.clock.now();
        entries.remove_expired(now);
        if entries.live.len() >= self.max_entries && !entries.live.contains_key(key) {
            return Err(StoreError::Unavailable("memory store full".into()));
        }
        let expires_at = now.plus(ttl);
        let key: Arc<str> = Arc::from(key);
        entries.live.insert(key.clone(), Entry { value, expires_at });
        entries.expiries.entry(expires_at.0).or_default().push(key);
        Ok(())
    }

    /// Number of live entries (for tests and memory measurements).
    pub fn live_entries(&self) -> usize {
        let now = self.clock.now();
        self.lock().map(|e| e.live.values().filter(|v| now.is_before(v.expires_at)).count()).unwrap_or(0)
    }
}

#[async_trait]
impl EphemeralStore for MemoryEphemeralStore {
    async fn put(&self, key: &str, value: Vec<u8>, ttl_seconds: u64) -> Result<(), StoreError> {
        let mut entries = self.lock()?;
        self.insert(&mut entries, key, value, ttl_seconds)
    }

    async fn put_if_absent(&self, key: &str, value: Vec<u8>, ttl_seconds: u64) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let mut entries = self.lock()?;
        if entries.live.get(key).is_some_and(|e| now.is_before(e.expires_at)) {
            return Ok(false);
        }
        self.insert(&mut entries, key, value, ttl_seconds)?;
        Ok(true)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let now = self.clock.now();
        let entries = self.lock()?;
        Ok(entries.live.get(key).filter(|e| now.is_before(e.expires_at)).map(|e| e.value.clone()))
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let now = self.clock.now();
        let mut entries = self.lock()?;
        Ok(entries.live.remove(key).filter(|e| now.is_before(e.expires_at)).map(|e| e.value))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.lock()?.live.remove(key);
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.lock().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use relais_domain::ManualClock;

    #[tokio::test]
    async fn entries_expire_with_the_clock_and_take_is_single_use() {
        let clock = Arc::new(ManualClock::new(UnixTime(1_000)));
        let store = MemoryEphemeralStore::new(clock.clone());
        store.put("a", b"1".to_vec(), 60).await.unwrap();
        assert_eq!(store.get("a").await.unwrap(), Some(b"1".to_vec()));
        assert_eq!(store.take("a").await.unwrap(), Some(b"1".to_vec()));
        assert_eq!(store.take("a").await.unwrap(), None);

        store.put("b", b"2".to_vec(), 60).await.unwrap();
        clock.advance(60);
        assert_eq!(store.get("b").await.unwrap(), None);
        assert!(store.put_if_absent("b", b"3".to_vec(), 60).await.unwrap());
        assert!(!store.put_if_absent("b", b"4".to_vec(), 60).await.unwrap());
        assert_eq!(store.get("b").await.unwrap(), Some(b"3".to_vec()));
    }

    #[tokio::test]
    async fn a_full_store_refuses_new_entries_until_some_expire() {
        let clock = Arc::new(ManualClock::new(UnixTime(0)));
        let store = MemoryEphemeralStore::with_max_entries(clock.clone(), 2);
        store.put("a", b"1".to_vec(), 10).await.unwrap();
        store.put("b", b"2".to_vec(), 100).await.unwrap();
        assert!(matches!(store.put("c", b"3".to_vec(), 10).await, Err(StoreError::Unavailable(_))));
        store.put("b", b"2bis".to_vec(), 100).await.unwrap();
        clock.advance(10);
        store.put("c", b"3".to_vec(), 10).await.unwrap();
    }

    #[tokio::test]
    async fn expired_entries_are_removed_and_a_rewritten_one_lives_to_its_new_expiry() {
        let clock = Arc::new(ManualClock::new(UnixTime(0)));
        let store = MemoryEphemeralStore::new(clock.clone());
        for i in 0..100 {
            store.put(&format!("short-{i}"), b"x".to_vec(), 10).await.unwrap();
        }
        store.put("kept", b"1".to_vec(), 10).await.unwrap();
        store.put("kept", b"2".to_vec(), 100).await.unwrap();
        clock.advance(10);
        store.put("trigger", b"t".to_vec(), 100).await.unwrap();
        {
            let entries = store.lock().unwrap();
            assert_eq!(entries.live.len(), 2, "the 100 expired entries are gone, not only hidden");
            assert!(entries.expiries.keys().all(|second| *second > 10));
        }
        assert_eq!(store.get("kept").await.unwrap(), Some(b"2".to_vec()));
        clock.advance(90);
        assert_eq!(store.get("kept").await.unwrap(), None);
    }

    #[tokio::test]
    async fn concurrent_takes_yield_one_value() {
        let store = Arc::new(MemoryEphemeralStore::new(Arc::new(ManualClock::new(UnixTime(0)))));
        store.put("code", b"x".to_vec(), 60).await.unwrap();
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let s = store.clone();
                tokio::spawn(async move { s.take("code").await.unwrap() })
            })
            .collect();
        let mut won = 0;
        for task in tasks {
            if task.await.unwrap().is_some() {
                won += 1;
            }
        }
        assert_eq!(won, 1);
    }
}
