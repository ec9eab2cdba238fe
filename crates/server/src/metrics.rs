//! What the operator measures, in Prometheus' text format at `GET /metrics` (with the bearer
//! token `hub.metrics_token`; without one the endpoint does not exist): every step and its
//! outcome per SP, IdP and DP (sign-ins, tokens, userinfo, checktoken), the IdPs' answer times
//! and health, the stores' latency and errors, the trace chain's commit batches, and the
//! sessions alive. Built on `prometheus-client`, the Prometheus project's own Rust client
//! (OpenMetrics text, atomics, no global registry). Counters are per node: Prometheus sums.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use relais_domain::step::StepEvent;
use relais_domain::trace::{TraceEvent, TraceRecord};
use relais_domain::{IdpId, UnixTime};
use relais_store::{EphemeralStore, StoreError, TraceStore};

/// The distinct values a label of `relais_steps_total` may take (an unknown client's id at
/// `/authorize` is the caller's text): beyond, new values count as `other`, so no caller can
/// grow the metrics without bound.
const MAX_LABEL_VALUES: usize = 1_000;

/// An IdP is marked down on the choice page after this many unreachable answers in a row…
const DOWN_AFTER_FAILURES: u32 = 3;
/// …for this long after the last one (then the next person's attempt tests it again).
const DOWN_FOR_SECONDS: u64 = 60;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StepLabels {
    step: &'static str,
    outcome: String,
    sp: String,
    idp: String,
    dp: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    idp: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreLabels {
    store: &'static str,
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IdpLabels {
    idp: String,
}

/// One IdP's recent answers, as this node saw them.
#[derive(Clone, Copy, Debug, Default)]
struct Health {
    last_success: Option<UnixTime>,
    last_failure: Option<UnixTime>,
    failures_in_a_row: u32,
}

/// The hub's metrics.
pub struct Metrics {
    registry: Registry,
    steps: Family<StepLabels, Counter>,
    upstream: Family<UpstreamLabels, Histogram>,
    store: Family<StoreLabels, Histogram>,
    store_errors: Family<StoreLabels, Counter>,
    trace_batches: Histogram,
    idp_up: Family<IdpLabels, Gauge>,
    idp_last_success: Family<IdpLabels, Gauge>,
    sessions_alive: Gauge,
    health: Mutex<HashMap<IdpId, Health>>,
    /// Sessions opened, by the minute of their sign-in (a session lives a fixed time from it;
    /// a logout takes one away from its minute).
    sessions: Mutex<HashMap<u64, i64>>,
    /// The values seen of the `sp`, `idp` and `dp` labels.
    label_values: Mutex<[std::collections::HashSet<String>; 3]>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn seconds_histogram() -> Histogram {
    // 0.5 ms to about 16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("relais");
        let steps = Family::<StepLabels, Counter>::default();
        registry.register(
            "steps",
            "Steps of the flows by outcome, service, identity and data provider (sign-ins are code_issued, tokens token_issued and token_refused, checktoken calls checktoken)",
            steps.clone(),
        );
        let upstream =
            Family::<UpstreamLabels, Histogram>::new_with_constructor(seconds_histogram as fn() -> Histogram);
        registry.register(
            "upstream_sign_in_duration_seconds",
            "Time to complete a sign-in at an identity provider (code exchange, ID token, userinfo), by outcome",
            upstream.clone(),
        );
        let store = Family::<StoreLabels, Histogram>::new_with_constructor(seconds_histogram as fn() -> Histogram);
        registry.register("store_duration_seconds", "Latency of the stores' operations", store.clone());
        let store_errors = Family::<StoreLabels, Counter>::default();
        registry.register("store_errors", "Store operations that failed", store_errors.clone());
        let trace_batches = Histogram::new(exponential_buckets(1.0, 2.0, 10));
        registry.register(
            "trace_append_batch_records",
            "Records committed together to the trace chain (group commit)",
            trace_batches.clone(),
        );
        let idp_up = Family::<IdpLabels, Gauge>::default();
        registry.register(
            "idp_up",
            "1 unless the identity provider failed to answer several times in a row lately (the choice page then marks it)",
            idp_up.clone(),
        );
        let idp_last_success = Family::<IdpLabels, Gauge>::default();
        registry.register(
            "idp_last_success_timestamp_seconds",
            "When a sign-in at the identity provider last succeeded on this node",
            idp_last_success.clone(),
        );
        let sessions_alive = Gauge::default();
        registry.register(
            "sessions_alive",
            "Hub sessions opened on this node, not expired, less the logouts this node saw (sum the nodes)",
            sessions_alive.clone(),
        );
        Self {
            registry,
            steps,
            upstream,
            store,
            store_errors,
            trace_batches,
            idp_up,
            idp_last_success,
            sessions_alive,
            health: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            label_values: Mutex::new(Default::default()),
        }
    }
}

impl Metrics {
    /// Counts a step.
    pub fn step(&self, event: &StepEvent) {
        let (sp, idp, dp) = {
            let mut seen = lock(&self.label_values);
            let [sps, idps, dps] = &mut *seen;
            (
                bounded(sps, event.sp.as_ref().map(|id| id.as_str())),
                bounded(idps, event.idp.as_ref().map(|id| id.as_str())),
                bounded(dps, event.dp.as_ref().map(|id| id.as_str())),
            )
        };
        let labels = StepLabels { step: event.step.as_str(), outcome: event.outcome.clone(), sp, idp, dp };
        self.steps.get_or_create(&labels).inc();
    }

    /// A sign-in at `idp` that ended with `outcome` (`ok` or a failure kind) after `seconds`;
    /// `unreachable`: the IdP did not answer (what marks it down).
    pub fn upstream_sign_in(&self, idp: &IdpId, outcome: &'static str, seconds: f64, unreachable: bool, now: UnixTime) {
        self.upstream.get_or_create(&UpstreamLabels { idp: idp.as_str().to_owned(), outcome }).observe(seconds);
        self.idp_answer(idp, outcome == "ok", unreachable, now);
    }

    /// What `idp` just did: answered well, failed to answer (`unreachable`), or refused.
    pub fn idp_answer(&self, idp: &IdpId, success: bool, unreachable: bool, now: UnixTime) {
        let mut health = lock(&self.health);
        let entry = health.entry(idp.clone()).or_default();
        if success {
            *entry = Health { last_success: Some(now), last_failure: entry.last_failure, failures_in_a_row: 0 };
        } else if unreachable {
            entry.last_failure = Some(now);
            entry.failures_in_a_row += 1;
        }
    }

    /// Whether `idp` is to be marked down on the choice page at `now`.
    pub fn idp_is_down(&self, idp: &IdpId, now: UnixTime) -> bool {
        lock(&self.health).get(idp).is_some_and(|health| is_down(health, now))
    }

    /// A session opened by a sign-in at `auth_time`.
    pub fn session_opened(&self, auth_time: UnixTime) {
        *lock(&self.sessions).entry(auth_time.0 / 60).or_default() += 1;
    }

    /// A session (signed in at `auth_time`) ended by logout.
    pub fn session_ended(&self, auth_time: UnixTime) {
        *lock(&self.sessions).entry(auth_time.0 / 60).or_default() -= 1;
    }

    /// The histogram of the trace chain's commit batches, for the store to observe.
    pub fn trace_batch(&self) -> Histogram {
        self.trace_batches.clone()
    }

    /// The text exposition at `now`, sessions counted over `session_lifetime`.
    pub fn encode(&self, now: UnixTime, session_lifetime: u64) -> String {
        {
            let mut sessions = lock(&self.sessions);
            let oldest = now.0.saturating_sub(session_lifetime) / 60;
            sessions.retain(|minute, _| *minute >= oldest);
            self.sessions_alive.set(sessions.values().sum());
        }
        for (idp, health) in lock(&self.health).iter() {
            let labels = IdpLabels { idp: idp.as_str().to_owned() };
            self.idp_up.get_or_create(&labels).set(i64::from(!is_down(health, now)));
            if let Some(at) = health.last_success {
                self.idp_last_success.get_or_create(&labels).set(at.0 as i64);
            }
        }
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            tracing::error!("metrics could not be encoded");
        }
        text
    }

    fn timed(&self, store: &'static str, operation: &'static str, started: Instant, failed: bool) {
        let labels = StoreLabels { store, operation };
        self.store.get_or_create(&labels).observe(started.elapsed().as_secs_f64());
        if failed {
            self.store_errors.get_or_create(&labels).inc();
        }
    }
}

/// `value` as a label: itself while fewer than [`MAX_LABEL_VALUES`] values were seen, else
/// `other` for a new one.
fn bounded(seen: &mut std::collections::HashSet<String>, value: Option<&str>) -> String {
    let value = value.unwrap_or_default();
    if seen.contains(value) {
        return value.to_owned();
    }
    if seen.len() >= MAX_LABEL_VALUES {
        return "other".to_owned();
    }
    seen.insert(value.to_owned());
    value.to_owned()
}

fn is_down(health: &Health, now: UnixTime) -> bool {
    health.failures_in_a_row >= DOWN_AFTER_FAILURES
        && health.last_failure.is_some_and(|at| now.0.saturating_sub(at.0) < DOWN_FOR_SECONDS)
}

/// The ephemeral store, timed.
pub struct MeasuredEphemeral {
    inner: Arc<dyn EphemeralStore>,
    metrics: Arc<Metrics>,
}

impl MeasuredEphemeral {
    /// `inner`, its operations timed into `metrics`.
    pub fn new(inner: Arc<dyn EphemeralStore>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }
}

async fn timed<T>(
    metrics: &Metrics,
    store: &'static str,
    operation: &'static str,
    work: impl std::future::Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let started = Instant::now();
    let result = work.await;
    metrics.timed(store, operation, started, result.is_err());
    result
}

#[async_trait]
impl EphemeralStore for MeasuredEphemeral {
    async fn put(&self, key: &str, value: Vec<u8>, ttl_seconds: u64) -> Result<(), StoreError> {
        timed(&self.metrics, "ephemeral", "put", self.inner.put(key, value, ttl_seconds)).await
    }
    async fn put_if_absent(&self, key: &str, value: Vec<u8>, ttl_seconds: u64) -> Result<bool, StoreError> {
        timed(&self.metrics, "ephemeral", "put_if_absent", self.inner.put_if_absent(key, value, ttl_seconds)).await
    }
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        timed(&self.metrics, "ephemeral", "get", self.inner.get(key)).await
    }
    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        timed(&self.metrics, "ephemeral", "take", self.inner.take(key)).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        timed(&self.metrics, "ephemeral", "delete", self.inner.delete(key)).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        timed(&self.metrics, "ephemeral", "ping", self.inner.ping()).await
    }
}

/// The trace store, timed.
pub struct MeasuredTraces {
    inner: Arc<dyn TraceStore>,
    metrics: Arc<Metrics>,
}

impl MeasuredTraces {
    /// `inner`, its operations timed into `metrics`.
    pub fn new(inner: Arc<dyn TraceStore>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }
}

#[async_trait]
impl TraceStore for MeasuredTraces {
    async fn append(&self, event: &TraceEvent) -> Result<TraceRecord, StoreError> {
        timed(&self.metrics, "traces", "append", self.inner.append(event)).await
    }
    async fn for_person(&self, person: &str, limit: u32) -> Result<Vec<TraceRecord>, StoreError> {
        timed(&self.metrics, "traces", "for_person", self.inner.for_person(person, limit)).await
    }
    async fn all(&self) -> Result<Vec<TraceRecord>, StoreError> {
        timed(&self.metrics, "traces", "all", self.inner.all()).await
    }
    async fn last(&self) -> Result<Option<TraceRecord>, StoreError> {
        timed(&self.metrics, "traces", "last", self.inner.last()).await
    }
    async fn at(&self, seq: u64) -> Result<Option<TraceRecord>, StoreError> {
        timed(&self.metrics, "traces", "at", self.inner.at(seq)).await
    }
    async fn transfer_figures(
        &self,
        since: UnixTime,
    ) -> Result<std::collections::BTreeMap<String, relais_domain::catalogue::Figures>, StoreError> {
        timed(&self.metrics, "traces", "transfer_figures", self.inner.transfer_figures(since)).await
    }
    async fn record_check(&self, dp: &str, minute: u64, answered: bool) -> Result<(), StoreError> {
        timed(&self.metrics, "traces", "record_check", self.inner.record_check(dp, minute, answered)).await
    }
    async fn availability(
        &self,
        minute: u64,
    ) -> Result<std::collections::BTreeMap<String, relais_domain::catalogue::Availability>, StoreError> {
        timed(&self.metrics, "traces", "availability", self.inner.availability(minute)).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_idp_failing_three_times_in_a_row_is_down_for_a_minute_and_up_at_its_first_success() {
        let metrics = Metrics::default();
        let idp = IdpId::new("impots");
        for at in [100, 101] {
            metrics.idp_answer(&idp, false, true, UnixTime(at));
        }
        metrics.idp_answer(&idp, false, false, UnixTime(101));
        assert!(!metrics.idp_is_down(&idp, UnixTime(102)), "two unreachable answers, one refusal");
        metrics.idp_answer(&idp, false, true, UnixTime(102));
        assert!(metrics.idp_is_down(&idp, UnixTime(103)));
        assert!(metrics.encode(UnixTime(103), 1800).contains("relais_idp_up{idp=\"impots\"} 0"));
        assert!(!metrics.idp_is_down(&idp, UnixTime(162)), "tried again after a minute");
        metrics.idp_answer(&idp, true, false, UnixTime(103));
        assert!(!metrics.idp_is_down(&idp, UnixTime(104)));
        assert!(metrics
            .encode(UnixTime(104), 1800)
            .contains("relais_idp_last_success_timestamp_seconds{idp=\"impots\"} 103"));
    }

    #[test]
    fn sessions_alive_are_those_opened_within_their_lifetime_less_the_logouts() {
        let metrics = Metrics::default();
        metrics.session_opened(UnixTime(6_000));
        metrics.session_opened(UnixTime(6_030));
        metrics.session_opened(UnixTime(7_000));
        metrics.session_ended(UnixTime(6_030));
        assert!(metrics.encode(UnixTime(7_010), 1800).contains("relais_sessions_alive 2"));
        assert!(metrics.encode(UnixTime(6_000 + 1_900), 1800).contains("relais_sessions_alive 1"), "the first expired");
    }

    #[test]
    fn a_caller_cannot_grow_the_step_labels_without_bound() {
        use relais_domain::step::StepEvent;
        let metrics = Metrics::default();
        for i in 0..(MAX_LABEL_VALUES + 500) {
            let event =
                StepEvent::authorization_refused(&relais_domain::SpId::new(format!("made-up-{i}")), "not_redirectable");
            metrics.step(&event);
        }
        let text = metrics.encode(UnixTime(1), 1800);
        let series = text.lines().filter(|line| line.starts_with("relais_steps_total{")).count();
        assert_eq!(series, MAX_LABEL_VALUES + 1, "the first ones, then `other`");
        assert!(text.contains("sp=\"other\""));
    }
}
