//! Time as the hub sees it: one injected clock, so tests control expiry and replay.

use std::sync::atomic::{AtomicU64, Ordering};

/// Seconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct UnixTime(pub u64);

impl UnixTime {
    /// This instant plus `seconds`, saturating.
    pub fn plus(self, seconds: u64) -> UnixTime {
        UnixTime(self.0.saturating_add(seconds))
    }

    /// Whether `self` is strictly before `other`.
    pub fn is_before(self, other: UnixTime) -> bool {
        self.0 < other.0
    }
}

/// Where the hub reads the time. The binary uses the system clock; tests a [`ManualClock`].
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> UnixTime;
}

/// A clock that only moves when told to, for tests of expiry.
#[derive(Debug, Default)]
pub struct ManualClock {
    seconds: AtomicU64,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: UnixTime) -> Self {
        Self { seconds: AtomicU64::new(start.0) }
    }

    /// The current time in seconds.
    pub fn now_secs(&self) -> u64 {
        self.seconds.load(Ordering::SeqCst)
    }

    /// Moves the clock forward by `seconds`.
    pub fn advance(&self, seconds: u64) {
        self.seconds.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        UnixTime(self.seconds.load(Ordering::SeqCst))
    }
}
