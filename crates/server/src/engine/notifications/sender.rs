//! The sender of the outbox: one pass claims the messages due (for a lease, so that no other
//! node sends them meanwhile), posts each to its subscription's endpoint as a Standard Webhook
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature`), and settles it: delivered on a 2xx
//! (its payload erased, a trace in the person's chain), tried again later by the retry rule, or
//! given up after 24 hours (a dead letter the operator can replay). A subscription whose
//! deliveries have failed for longer than that is disabled, and the operator is told.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use relais_domain::step::StepEvent;
use relais_domain::webhook::{sign, Attempt, RetryRule, SubscriptionStatus};
use relais_store::{DueMessage, Outcome, StoreError, SubscriptionRecord};
use tokio::task::JoinSet;

use crate::state::AppState;

/// How long a claimed message is this node's: longer than a pass can take (its attempts run
/// at once, each within [`DELIVERY_TIMEOUT`]). A node that dies leaves its claimed messages
/// to the others when the lease ends.
pub const LEASE: u64 = 30;
/// How many messages one pass claims.
pub const BATCH: u32 = 64;
/// How long the hub waits for a receiver's answer, connection included.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long what is finished stays in the outbox: delivered messages (their payload already
/// erased) for the operator's list, dead letters' payloads for a replay. Thirty days.
pub const RETENTION: u64 = 30 * 86_400;

/// Forgets what finished more than [`RETENTION`] ago (run every hour by the process); how many.
pub async fn purge_finished(state: &AppState) -> Result<u64, StoreError> {
    let before = state.clock.now().0.saturating_sub(RETENTION);
    let purged = state.outbox.purge_finished(before).await?;
    if purged > 0 {
        tracing::info!(target: "relais::webhooks", purged, "finished notifications older than 30 days forgotten (dead letters can no longer be replayed)");
    }
    Ok(purged)
}

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Messages the receivers accepted.
    pub delivered: usize,
    /// Messages that failed and will be tried again.
    pub retried: usize,
    /// Messages given up (dead letters).
    pub given_up: usize,
    /// Subscriptions disabled because they failed for too long.
    pub disabled: usize,
}

impl Delivery {
    /// How many messages the pass claimed.
    pub fn claimed(&self) -> usize {
        self.delivered + self.retried + self.given_up
    }
}

/// The HTTP client of the deliveries: no redirect followed (a receiver that moves must say so
/// in its subscription), a bounded wait.
pub fn client() -> reqwest::Client {
    client_waiting(DELIVERY_TIMEOUT)
}

/// [`client`], waiting `timeout` for an answer.
pub fn client_waiting(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(3)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Relais-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

/// One pass of the sender: the messages due now, delivered concurrently.
#[tracing::instrument(skip_all, name = "webhooks")]
pub async fn deliver_due(state: &AppState, client: &reqwest::Client) -> Result<Delivery, StoreError> {
    let now = state.clock.now().0;
    let due = state.outbox.claim_due(now, LEASE, BATCH).await?;
    let mut delivery = Delivery::default();
    if due.is_empty() {
        return Ok(delivery);
    }
    let subscriptions: HashMap<String, SubscriptionRecord> = state
        .outbox
        .subscriptions()
        .await?
        .into_iter()
        .map(|record| (record.subscription.id.clone(), record))
        .collect();
    let subscriptions = Arc::new(subscriptions);
    // Each message attempted and settled in a task of its own: the database round trips of the
    // settlements overlap as the posts do.
    let mut attempts = JoinSet::new();
    for message in due {
        let (state, client, subscriptions) = (state.clone(), client.clone(), subscriptions.clone());
        attempts.spawn(async move {
            let record = subscriptions.get(&message.subscription);
            let result = attempt(&state, &client, record, &message).await;
            let service = record.map_or_else(
                || relais_domain::SpId::new(&message.subscription),
                |record| record.subscription.service.clone(),
            );
            let settled = settle(&state, &message, &service, result).await;
            (message.subscription, settled)
        });
    }
    let mut failing: Vec<String> = Vec::new();
    let mut failure = None;
    while let Some(joined) = attempts.join_next().await {
        let Ok((subscription, settled)) = joined else { continue };
        match settled {
            Ok(Settled::Delivered) => delivery.delivered += 1,
            Ok(Settled::Retried) => {
                delivery.retried += 1;
                failing.push(subscription);
            }
            Ok(Settled::GivenUp) => {
                delivery.given_up += 1;
                failing.push(subscription);
            }
            // The message stays claimed until its lease ends, then is tried again.
            Err(error) => failure = Some(error),
        }
    }
    if let Some(error) = failure {
        return Err(error);
    }
    failing.sort();
    failing.dedup();
    for id in failing {
        let Some(record) = subscriptions.get(&id) else { continue };
        let failing_for = record.failing_since.map(|since| now.saturating_sub(since));
        let active = record.status == SubscriptionStatus::Active;
        if active && failing_for.is_some_and(|seconds| seconds >= RetryRule::default().give_up_after) {
            state.outbox.set_subscription_status(&id, SubscriptionStatus::Disabled, now).await?;
            tracing::error!(
                target: "relais::webhooks",
                subscription = %id,
                service = %record.subscription.service,
                failing_for,
                "receiver disabled: its deliveries have failed for more than 24 hours; its messages wait in the dead letters (relais webhooks enable, then replay)"
            );
            delivery.disabled += 1;
        }
    }
    Ok(delivery)
}

/// Why an attempt failed, for the operator (never the payload).
enum Failure {
    /// The receiver did not accept it: tried again.
    Receiver(String),
    /// Its subscription was disabled or removed meanwhile: given up at once.
    NoSubscription,
}

async fn attempt(
    state: &AppState,
    client: &reqwest::Client,
    record: Option<&SubscriptionRecord>,
    message: &DueMessage,
) -> Result<(), Failure> {
    let Some(record) = record.filter(|record| record.status == SubscriptionStatus::Active) else {
        return Err(Failure::NoSubscription);
    };
    let timestamp = state.clock.now().0;
    let body = message.payload.as_bytes();
    let signature = sign(&record.subscription.secret, &message.id, timestamp, body);
    let sent = client
        .post(record.subscription.url.clone())
        .header("content-type", "application/json")
        .header("webhook-id", &message.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(message.payload.clone())
        .send()
        .await;
    let failure = match sent {
        Ok(response) if response.status().is_success() => return Ok(()),
        Ok(response) => format!("HTTP {}", response.status().as_u16()),
        Err(error) if error.is_timeout() => "no answer in time".to_owned(),
        Err(error) if error.is_connect() => "connection refused or unreachable".to_owned(),
        Err(_) => "the request failed".to_owned(),
    };
    Err(Failure::Receiver(failure))
}

enum Settled {
    Delivered,
    Retried,
    GivenUp,
}

async fn settle(
    state: &AppState,
    message: &DueMessage,
    service: &relais_domain::SpId,
    result: Result<(), Failure>,
) -> Result<Settled, StoreError> {
    let now = state.clock.now();
    let person = message.person.as_deref();
    let (error, next) = match result {
        Ok(()) => {
            let event = StepEvent::notification(now, person, service, &message.id, "delivered");
            state.outbox.settle(message, Outcome::Delivered { trace: event.records.first() }, now.0).await?;
            state.tracer.recorded(event);
            return Ok(Settled::Delivered);
        }
        Err(Failure::NoSubscription) => ("the subscription is disabled or removed".to_owned(), Attempt::GiveUp),
        Err(Failure::Receiver(error)) => {
            let jitter = relais_oidc::random::random_unit();
            let next = RetryRule::default().after_failure(message.attempts, message.created_at, now.0, jitter);
            (error, next)
        }
    };
    match next {
        Attempt::RetryAt(next_attempt_at) => {
            tracing::warn!(
                target: "relais::webhooks",
                message = %message.id,
                subscription = %message.subscription,
                attempts = message.attempts,
                next_attempt_at,
                %error,
                "delivery failed; it will be tried again"
            );
            state.outbox.settle(message, Outcome::Retry { next_attempt_at, error: &error }, now.0).await?;
            Ok(Settled::Retried)
        }
        Attempt::GiveUp => {
            let event = StepEvent::notification(now, person, service, &message.id, "given_up")
                .with_detail(format!("{}: {error}", message.id));
            state
                .outbox
                .settle(message, Outcome::GiveUp { error: &error, trace: event.records.first() }, now.0)
                .await?;
            state.tracer.recorded(event);
            Ok(Settled::GivenUp)
        }
    }
}
