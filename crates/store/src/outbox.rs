//! The transactional outbox of notifications: the subscriptions of administrations (part of
//! the registry) and one message per event and subscription, written in the same transaction
//! as the trace records of the change that causes it, so that a change is never made without
//! its notifications nor notified without being made. Messages are claimed for a lease by the
//! sender of one node (row locking on PostgreSQL, so nodes never send the same message at the
//! same time), delivered at least once with the same `webhook-id`, and their payloads (which may
//! hold personal data: a new address) are sealed at rest and erased once delivered.

use async_trait::async_trait;
use relais_domain::trace::{TraceEvent, TraceRecord};
use relais_domain::webhook::{EventKind, MessageState, Subscription, SubscriptionStatus};

use crate::registry::Source;
use crate::StoreError;

/// A message to write with the change that causes it.
#[derive(Clone, Debug)]
pub struct NewMessage {
    /// Its `webhook-id`.
    pub id: String,
    /// The subscription it goes to.
    pub subscription: String,
    /// Its kind.
    pub kind: EventKind,
    /// The person's key, for the trace of its delivery.
    pub person: Option<String>,
    /// The body, as it will be sent (sealed at rest).
    pub payload: String,
    /// When it was written.
    pub at: u64,
}

/// A message claimed for delivery.
#[derive(Clone, Debug)]
pub struct DueMessage {
    /// Its `webhook-id`.
    pub id: String,
    /// The subscription it goes to.
    pub subscription: String,
    /// Its kind.
    pub kind: EventKind,
    /// The person's key.
    pub person: Option<String>,
    /// The body.
    pub payload: String,
    /// The attempts made, this one included.
    pub attempts: u32,
    /// When it was written (or replayed).
    pub created_at: u64,
}

/// A message as the operator sees it (no payload).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MessageSummary {
    /// Its `webhook-id`.
    pub id: String,
    /// The subscription it goes to.
    pub subscription: String,
    /// Its kind.
    pub kind: EventKind,
    /// Where it stands.
    pub state: MessageState,
    /// The attempts made.
    pub attempts: u32,
    /// When it was written (or replayed).
    pub created_at: u64,
    /// When it is tried next (pending).
    pub next_attempt_at: u64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was delivered or given up.
    pub finished_at: Option<u64>,
}

/// A subscription and how it fares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionRecord {
    /// The subscription.
    pub subscription: Subscription,
    /// Served or disabled.
    pub status: SubscriptionStatus,
    /// Since when its deliveries fail without a success (none: the last one succeeded).
    pub failing_since: Option<u64>,
    /// Where it was declared.
    pub source: Source,
}

/// What happened to a claimed message.
#[derive(Clone, Debug)]
pub enum Outcome<'a> {
    /// The receiver answered 2xx: the payload is erased, the trace appended.
    Delivered {
        /// The record of the delivery in the person's chain.
        trace: Option<&'a TraceEvent>,
    },
    /// It failed; it is tried again at `next_attempt_at`.
    Retry {
        /// When.
        next_attempt_at: u64,
        /// Why it failed.
        error: &'a str,
    },
    /// It failed for the last time: a dead letter.
    GiveUp {
        /// Why it failed.
        error: &'a str,
        /// The record of the failure in the person's chain.
        trace: Option<&'a TraceEvent>,
    },
}

/// Where notifications wait for delivery.
#[async_trait]
pub trait OutboxStore: Send + Sync + 'static {
    /// Adds or replaces a subscription (a replaced one keeps its status).
    async fn put_subscription(&self, subscription: &Subscription, source: Source, at: u64) -> Result<(), StoreError>;
    /// Removes a subscription; whether there was one. Its pending messages are given up.
    async fn remove_subscription(&self, id: &str, at: u64) -> Result<bool, StoreError>;
    /// Removes the subscriptions of the configuration not in `keep`; how many.
    async fn remove_configured_subscriptions_except(&self, keep: &[String], at: u64) -> Result<u64, StoreError>;
    /// Every subscription, by id.
    async fn subscriptions(&self) -> Result<Vec<SubscriptionRecord>, StoreError>;
    /// Enables or disables a subscription; whether there is one. Disabling gives up its
    /// pending messages (they wait in the dead letters); enabling forgets its failures.
    async fn set_subscription_status(&self, id: &str, status: SubscriptionStatus, at: u64) -> Result<bool, StoreError>;
    /// Appends `traces` to the chain and writes `messages`, in one transaction.
    async fn record_with_messages(
        &self,
        traces: &[TraceEvent],
        messages: &[NewMessage],
    ) -> Result<Vec<TraceRecord>, StoreError>;
    /// Claims up to `limit` pending messages due at `now` for `lease` seconds (no other sender
    /// takes them meanwhile; a sender that dies leaves them to the others when it ends),
    /// counting the attempt.
    async fn claim_due(&self, now: u64, lease: u64, limit: u32) -> Result<Vec<DueMessage>, StoreError>;
    /// Records the outcome of an attempt at `at` (with its trace, in the same transaction).
    async fn settle(&self, message: &DueMessage, outcome: Outcome<'_>, at: u64) -> Result<(), StoreError>;
    /// The messages in `state` (all: `None`), newest first, at most `limit`.
    async fn messages(&self, state: Option<MessageState>, limit: u32) -> Result<Vec<MessageSummary>, StoreError>;
    /// The message `id`, if there is one.
    async fn message(&self, id: &str) -> Result<Option<MessageSummary>, StoreError>;
    /// Puts a dead letter back in the queue at `now` for another 24 hours of attempts; whether
    /// it was one.
    async fn replay(&self, id: &str, now: u64) -> Result<bool, StoreError>;
    /// Forgets what is finished since before `before`: delivered messages are removed, and
    /// dead letters keep their record but lose their payload (they can no longer be replayed):
    /// a new address does not wait at rest for an operator who never comes. How many.
    async fn purge_finished(&self, before: u64) -> Result<u64, StoreError>;
    /// How many messages are pending (the metrics, the operator).
    async fn pending_count(&self) -> Result<u64, StoreError>;
}
