//! The one tracer: every step emits one [`StepEvent`] here, which becomes one structured log
//! line (target `relais::trace`, inside the request's span, so with its request id) and one
//! count in the metrics, its
//! records appended to the hash chain (the step fails closed if they cannot be), and the event
//! published to the subscribers that later capabilities attach (webhooks, logout tokens).
//! Nothing else writes a trace.

use std::sync::Arc;

use relais_domain::step::StepEvent;
use relais_store::{NewMessage, OutboxStore, StoreError, TraceStore};
use tokio::sync::broadcast;

use crate::metrics::Metrics;

/// How many events a slow subscriber may lag behind before it misses some (it is told).
const SUBSCRIBER_BACKLOG: usize = 1024;

/// Logs, chains and publishes the steps' events.
pub struct Tracer {
    chain: Arc<dyn TraceStore>,
    notifications: Arc<dyn OutboxStore>,
    outbox: broadcast::Sender<Arc<StepEvent>>,
    metrics: Arc<Metrics>,
}

impl Tracer {
    /// A tracer appending to `chain` (and to `notifications`' transaction when a step sends
    /// some), counting into `metrics`.
    pub fn new(chain: Arc<dyn TraceStore>, notifications: Arc<dyn OutboxStore>, metrics: Arc<Metrics>) -> Self {
        Self { chain, notifications, outbox: broadcast::channel(SUBSCRIBER_BACKLOG).0, metrics }
    }

    /// Records one step: its log line, then its chain records (committed before this returns),
    /// then its publication.
    pub async fn emit(&self, event: StepEvent) -> Result<(), StoreError> {
        log(&event);
        self.metrics.step(&event);
        for record in &event.records {
            self.chain.append(record).await?;
        }
        self.publish(event);
        Ok(())
    }

    /// Records one step that notifies administrations: its chain records and `messages` in
    /// one transaction (the transactional outbox: the change is never recorded without its
    /// notifications, nor notified without being recorded), then its log line and publication.
    /// Nothing is logged as done when the transaction fails.
    pub async fn emit_with_messages(&self, event: StepEvent, messages: &[NewMessage]) -> Result<(), StoreError> {
        self.notifications.record_with_messages(&event.records, messages).await?;
        self.recorded(event);
        Ok(())
    }

    /// Logs, counts and publishes a step whose records the outbox wrote in its own transaction
    /// (a delivery settled with its trace).
    pub fn recorded(&self, event: StepEvent) {
        log(&event);
        self.metrics.step(&event);
        self.publish(event);
    }

    fn publish(&self, event: StepEvent) {
        if self.outbox.receiver_count() > 0 {
            // No subscriber left between the check and the send is not an error.
            let _ = self.outbox.send(Arc::new(event));
        }
    }

    /// A subscription to every event emitted from now on, chain records committed.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<StepEvent>> {
        self.outbox.subscribe()
    }
}

fn log(event: &StepEvent) {
    let step = event.step.as_str();
    let outcome = event.outcome.as_str();
    let sp = event.sp.as_ref().map(|id| id.as_str());
    let idp = event.idp.as_ref().map(|id| id.as_str());
    let dp = event.dp.as_ref().map(|id| id.as_str());
    let level = event.level.map(|level| level.as_acr());
    let detail = event.detail.as_deref();
    if event.is_ok() {
        tracing::info!(target: "relais::trace", step, outcome, sp, idp, dp, level, detail, "{step}");
    } else {
        tracing::warn!(target: "relais::trace", step, outcome, sp, idp, dp, level, detail, "{step}");
    }
}
