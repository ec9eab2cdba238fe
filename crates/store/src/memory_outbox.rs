//! The outbox in memory, behaving as the SQL one: for the engine's tests without a database.

use std::collections::BTreeMap;

use async_trait::async_trait;
use relais_domain::trace::{TraceEvent, TraceRecord};
use relais_domain::webhook::{MessageState, Subscription, SubscriptionStatus};

use crate::memory_stores::{locked, MemoryStores};
use crate::outbox::{DueMessage, MessageSummary, NewMessage, OutboxStore, Outcome, SubscriptionRecord};
use crate::registry::Source;
use crate::{StoreError, TraceStore};

#[derive(Default)]
pub(crate) struct MemoryOutbox {
    subscriptions: BTreeMap<String, SubscriptionRecord>,
    messages: BTreeMap<String, (MessageSummary, Option<String>, Option<String>, u64)>,
}

impl MemoryOutbox {
    fn give_up_pending_of(&mut self, subscription: &str, at: u64, why: &str) {
        for (message, _, _, _) in self.messages.values_mut() {
            if message.subscription == subscription && message.state == MessageState::Pending {
                message.state = MessageState::Dead;
                message.last_error = Some(why.to_owned());
                message.finished_at = Some(at);
            }
        }
    }
}

#[async_trait]
impl OutboxStore for MemoryStores {
    async fn put_subscription(&self, subscription: &Subscription, source: Source, _at: u64) -> Result<(), StoreError> {
        locked(&self.outbox, |outbox| {
            let record = outbox.subscriptions.entry(subscription.id.clone()).or_insert_with(|| SubscriptionRecord {
                subscription: subscription.clone(),
                status: SubscriptionStatus::Active,
                failing_since: None,
                source,
            });
            record.subscription = subscription.clone();
            record.source = source;
        });
        Ok(())
    }

    async fn remove_subscription(&self, id: &str, at: u64) -> Result<bool, StoreError> {
        Ok(locked(&self.outbox, |outbox| {
            outbox.give_up_pending_of(id, at, "subscription removed");
            outbox.subscriptions.remove(id).is_some()
        }))
    }

    async fn remove_configured_subscriptions_except(&self, keep: &[String], at: u64) -> Result<u64, StoreError> {
        let gone: Vec<String> = locked(&self.outbox, |outbox| {
            outbox
                .subscriptions
                .values()
                .filter(|r| r.source == Source::Configuration && !keep.contains(&r.subscription.id))
                .map(|r| r.subscription.id.clone())
                .collect()
        });
        for id in &gone {
            self.remove_subscription(id, at).await?;
        }
        Ok(gone.len() as u64)
    }

    async fn subscriptions(&self) -> Result<Vec<SubscriptionRecord>, StoreError> {
        Ok(locked(&self.outbox, |outbox| outbox.subscriptions.values().cloned().collect()))
    }

    async fn set_subscription_status(&self, id: &str, status: SubscriptionStatus, at: u64) -> Result<bool, StoreError> {
        Ok(locked(&self.outbox, |outbox| {
            let Some(record) = outbox.subscriptions.get_mut(id) else { return false };
            record.status = status;
            if status == SubscriptionStatus::Active {
                record.failing_since = None;
            } else {
                outbox.give_up_pending_of(id, at, "subscription disabled");
            }
            true
        }))
    }

    async fn record_with_messages(
        &self,
        traces: &[TraceEvent],
        messages: &[NewMessage],
    ) -> Result<Vec<TraceRecord>, StoreError> {
        let mut records = Vec::with_capacity(traces.len());
        for trace in traces {
            records.push(self.append(trace).await?);
        }
        locked(&self.outbox, |outbox| {
            for message in messages {
                let summary = MessageSummary {
                    id: message.id.clone(),
                    subscription: message.subscription.clone(),
                    kind: message.kind,
                    state: MessageState::Pending,
                    attempts: 0,
                    created_at: message.at,
                    next_attempt_at: message.at,
                    last_error: None,
                    finished_at: None,
                };
                outbox
                    .messages
                    .insert(message.id.clone(), (summary, Some(message.payload.clone()), message.person.clone(), 0));
            }
        });
        Ok(records)
    }

    async fn claim_due(&self, now: u64, lease: u64, limit: u32) -> Result<Vec<DueMessage>, StoreError> {
        Ok(locked(&self.outbox, |outbox| {
            let mut due: Vec<DueMessage> = Vec::new();
            for (message, payload, person, locked_until) in outbox.messages.values_mut() {
                if due.len() as u32 >= limit {
                    break;
                }
                if message.state != MessageState::Pending || message.next_attempt_at > now || *locked_until > now {
                    continue;
                }
                *locked_until = now + lease;
                message.attempts += 1;
                due.push(DueMessage {
                    id: message.id.clone(),
                    subscription: message.subscription.clone(),
                    kind: message.kind,
                    person: person.clone(),
                    payload: payload.clone().unwrap_or_default(),
                    attempts: message.attempts,
                    created_at: message.created_at,
                });
            }
            due
        }))
    }

    async fn settle(&self, message: &DueMessage, outcome: Outcome<'_>, at: u64) -> Result<(), StoreError> {
        let trace = match &outcome {
            Outcome::Delivered { trace } | Outcome::GiveUp { trace, .. } => *trace,
            Outcome::Retry { .. } => None,
        };
        if let Some(trace) = trace {
            self.append(trace).await?;
        }
        locked(&self.outbox, |outbox| {
            let subscription = outbox.subscriptions.get_mut(&message.subscription);
            let Some((stored, payload, _, locked_until)) = outbox.messages.get_mut(&message.id) else { return };
            if stored.state != MessageState::Pending {
                return;
            }
            *locked_until = 0;
            match outcome {
                Outcome::Delivered { .. } => {
                    stored.state = MessageState::Delivered;
                    stored.finished_at = Some(at);
                    stored.last_error = None;
                    *payload = None;
                    if let Some(record) = subscription {
                        record.failing_since = None;
                    }
                }
                Outcome::Retry { next_attempt_at, error } => {
                    stored.next_attempt_at = next_attempt_at;
                    stored.last_error = Some(error.to_owned());
                    if let Some(record) = subscription {
                        record.failing_since.get_or_insert(at);
                    }
                }
                Outcome::GiveUp { error, .. } => {
                    stored.state = MessageState::Dead;
                    stored.finished_at = Some(at);
                    stored.last_error = Some(error.to_owned());
                }
            }
        });
        Ok(())
    }

    async fn messages(&self, state: Option<MessageState>, limit: u32) -> Result<Vec<MessageSummary>, StoreError> {
        Ok(locked(&self.outbox, |outbox| {
            let mut all: Vec<MessageSummary> = outbox
                .messages
                .values()
                .map(|(m, _, _, _)| m.clone())
                .filter(|m| state.is_none_or(|s| m.state == s))
                .collect();
            all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
            all.truncate(limit as usize);
            all
        }))
    }

    async fn message(&self, id: &str) -> Result<Option<MessageSummary>, StoreError> {
        Ok(locked(&self.outbox, |outbox| outbox.messages.get(id).map(|(m, _, _, _)| m.clone())))
    }

    async fn replay(&self, id: &str, now: u64) -> Result<bool, StoreError> {
        Ok(locked(&self.outbox, |outbox| match outbox.messages.get_mut(id) {
            Some((message, Some(_), _, locked_until)) if message.state == MessageState::Dead => {
                message.state = MessageState::Pending;
                message.attempts = 0;
                message.created_at = now;
                message.next_attempt_at = now;
                message.finished_at = None;
                *locked_until = 0;
                true
            }
            _ => false,
        }))
    }

    async fn purge_finished(&self, before: u64) -> Result<u64, StoreError> {
        Ok(locked(&self.outbox, |outbox| {
            let finished = |m: &MessageSummary, state| m.state == state && m.finished_at.is_some_and(|at| at < before);
            let count = outbox.messages.len();
            outbox.messages.retain(|_, (m, _, _, _)| !finished(m, MessageState::Delivered));
            let mut purged = (count - outbox.messages.len()) as u64;
            for (message, payload, _, _) in outbox.messages.values_mut() {
                if finished(message, MessageState::Dead) && payload.take().is_some() {
                    purged += 1;
                }
            }
            purged
        }))
    }

    async fn pending_count(&self) -> Result<u64, StoreError> {
        Ok(locked(&self.outbox, |outbox| {
            outbox.messages.values().filter(|(m, _, _, _)| m.state == MessageState::Pending).count() as u64
        }))
    }
}
