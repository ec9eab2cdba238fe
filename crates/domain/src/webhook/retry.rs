//! When a failed delivery is tried again: exponential backoff with jitter, from 5 seconds and
//! doubling up to one hour between attempts, for 24 hours after the message was written; then
//! it is given up (a dead letter). A receiver down for ten minutes gets its messages within
//! about ten minutes of coming back; one down for a day is given up and disabled.

/// The rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryRule {
    /// The delay after the first failure, seconds.
    pub first_delay: u64,
    /// The longest delay between two attempts, seconds.
    pub max_delay: u64,
    /// How long after its creation a message is still tried, seconds.
    pub give_up_after: u64,
}

impl Default for RetryRule {
    fn default() -> Self {
        Self { first_delay: 5, max_delay: 3_600, give_up_after: 86_400 }
    }
}

/// What to do after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// Try again at this time (seconds since the epoch).
    RetryAt(u64),
    /// Give up: the message goes to the dead letters.
    GiveUp,
}

impl RetryRule {
    /// After failed attempt number `attempts` (from 1) at `now` of a message created at
    /// `created_at`: the next attempt, delayed by `first_delay · 2^(attempts-1)` capped at
    /// `max_delay`, of which a random part (`jitter`, in [0, 1)) up to a half is taken off, so
    /// that receivers coming back are not hit by every sender at once.
    pub fn after_failure(&self, attempts: u32, created_at: u64, now: u64, jitter: f64) -> Attempt {
        if now >= created_at.saturating_add(self.give_up_after) {
            return Attempt::GiveUp;
        }
        let exponent = attempts.saturating_sub(1).min(32);
        let delay = self.first_delay.saturating_mul(1u64 << exponent).min(self.max_delay);
        let jitter = jitter.clamp(0.0, 1.0);
        let taken_off = ((delay as f64) * 0.5 * jitter) as u64;
        let next = now.saturating_add(delay - taken_off).min(created_at.saturating_add(self.give_up_after));
        Attempt::RetryAt(next.max(now + 1))
    }
}
