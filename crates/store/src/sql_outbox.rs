//! The outbox in the SQL database: subscriptions as versioned rows with their secret sealed,
//! messages with their payload sealed (erased once delivered), claimed with
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL (each node takes messages no other node holds) and by
//! SQLite's single writer.

use async_trait::async_trait;
use relais_domain::trace::{TraceEvent, TraceRecord};
use relais_domain::webhook::{EventKind, MessageState, Subscription, SubscriptionStatus, WebhookSecret};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::outbox::{DueMessage, MessageSummary, NewMessage, OutboxStore, Outcome, SubscriptionRecord};
use crate::registry::Source;
use crate::sql::{unavailable, SqlStore};
use crate::traces::{Bind, Statement};
use crate::StoreError;

/// A subscription's row (`v: 1`), its secret sealed.
#[derive(serde::Serialize, serde::Deserialize)]
struct SubscriptionV1 {
    v: u32,
    id: String,
    service: relais_domain::SpId,
    events: Vec<EventKind>,
    url: url::Url,
    sealed_secret: String,
    #[serde(default)]
    description: String,
}

fn secret_context(id: &str) -> String {
    format!("webhook_secret:{id}")
}

fn payload_context(id: &str) -> String {
    format!("webhook_payload:{id}")
}

fn corrupt(what: &str) -> impl Fn(serde_json::Error) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("{what}: {e}"))
}

fn text(value: impl Into<String>) -> Bind {
    Bind::Text(Some(value.into()))
}

fn int(value: u64) -> Bind {
    Bind::Int(value.min(i64::MAX as u64) as i64)
}

fn time(row: &AnyRow, column: &str) -> Result<u64, StoreError> {
    Ok(row.try_get::<i64, _>(column).map_err(unavailable)?.max(0) as u64)
}

fn kind_of(row: &AnyRow) -> Result<EventKind, StoreError> {
    let kind: String = row.try_get("event_type").map_err(unavailable)?;
    EventKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("webhook event type `{kind}`")))
}

const MESSAGE_COLUMNS: &str =
    "id, subscription, event_type, state, attempts, created_at, next_attempt_at, last_error, finished_at";

fn summary(row: &AnyRow) -> Result<MessageSummary, StoreError> {
    let state: String = row.try_get("state").map_err(unavailable)?;
    let finished: Option<i64> = row.try_get("finished_at").map_err(unavailable)?;
    Ok(MessageSummary {
        id: row.try_get("id").map_err(unavailable)?,
        subscription: row.try_get("subscription").map_err(unavailable)?,
        kind: kind_of(row)?,
        state: MessageState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("message state `{state}`")))?,
        attempts: row.try_get::<i32, _>("attempts").map_err(unavailable)?.max(0) as u32,
        created_at: time(row, "created_at")?,
        next_attempt_at: time(row, "next_attempt_at")?,
        last_error: row.try_get("last_error").map_err(unavailable)?,
        finished_at: finished.map(|t| t.max(0) as u64),
    })
}

impl SqlStore {
    fn subscription_row(&self, subscription: &Subscription) -> Result<String, StoreError> {
        let sealed_secret = self.ring()?.seal_text(&secret_context(&subscription.id), &subscription.secret.expose())?;
        serde_json::to_string(&SubscriptionV1 {
            v: 1,
            id: subscription.id.clone(),
            service: subscription.service.clone(),
            events: subscription.events.clone(),
            url: subscription.url.clone(),
            sealed_secret,
            description: subscription.description.clone(),
        })
        .map_err(corrupt("webhook subscription"))
    }

    fn subscription_of(&self, text: &str) -> Result<Subscription, StoreError> {
        let row: SubscriptionV1 = serde_json::from_str(text).map_err(corrupt("webhook subscription"))?;
        let secret = self.ring()?.open_text(&secret_context(&row.id), &row.sealed_secret)?;
        let secret = WebhookSecret::parse(&secret)
            .map_err(|e| StoreError::Corrupt(format!("webhook secret of {}: {e}", row.id)))?;
        Ok(Subscription {
            id: row.id,
            service: row.service,
            events: row.events,
            url: row.url,
            secret,
            description: row.description,
        })
    }

    /// Gives up the pending messages of `subscription`.
    async fn give_up_pending_of(&self, subscription: &str, at: u64, why: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE webhook_messages SET state = 'dead', last_error = $1, finished_at = $2, locked_until = 0 \
             WHERE subscription = $3 AND state = 'pending'",
        )
        .bind(why)
        .bind(at as i64)
        .bind(subscription)
        .execute(self.pool())
        .await
        .map_err(unavailable)?;
        Ok(())
    }
}

#[async_trait]
impl OutboxStore for SqlStore {
    async fn put_subscription(&self, subscription: &Subscription, source: Source, at: u64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO webhook_subscriptions (id, registration, status, failing_since, source, updated_at) \
             VALUES ($1, $2, 'active', NULL, $3, $4) ON CONFLICT (id) DO UPDATE SET \
             registration = excluded.registration, source = excluded.source, updated_at = excluded.updated_at",
        )
        .bind(&subscription.id)
        .bind(self.subscription_row(subscription)?)
        .bind(source.as_str())
        .bind(at as i64)
        .execute(self.pool())
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn remove_subscription(&self, id: &str, at: u64) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM webhook_subscriptions WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(unavailable)?;
        self.give_up_pending_of(id, at, "subscription removed").await?;
        Ok(done.rows_affected() > 0)
    }

    async fn remove_configured_subscriptions_except(&self, keep: &[String], at: u64) -> Result<u64, StoreError> {
        let rows = sqlx::query("SELECT id FROM webhook_subscriptions WHERE source = $1")
            .bind(Source::Configuration.as_str())
            .fetch_all(self.pool())
            .await
            .map_err(unavailable)?;
        let mut removed = 0;
        for row in rows {
            let id: String = row.try_get(0).map_err(unavailable)?;
            if !keep.contains(&id) && self.remove_subscription(&id, at).await? {
                removed += 1;
            }
        }
        Ok(removed)
    }

    async fn subscriptions(&self) -> Result<Vec<SubscriptionRecord>, StoreError> {
        let rows =
            sqlx::query("SELECT registration, status, failing_since, source FROM webhook_subscriptions ORDER BY id")
                .fetch_all(self.pool())
                .await
                .map_err(unavailable)?;
        rows.iter()
            .map(|row| {
                let status: String = row.try_get("status").map_err(unavailable)?;
                let source: String = row.try_get("source").map_err(unavailable)?;
                let failing_since: Option<i64> = row.try_get("failing_since").map_err(unavailable)?;
                Ok(SubscriptionRecord {
                    subscription: self
                        .subscription_of(&row.try_get::<String, _>("registration").map_err(unavailable)?)?,
                    status: SubscriptionStatus::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt(format!("subscription status `{status}`")))?,
                    failing_since: failing_since.map(|t| t.max(0) as u64),
                    source: if source == Source::Configuration.as_str() {
                        Source::Configuration
                    } else {
                        Source::Registered
                    },
                })
            })
            .collect()
    }

    async fn set_subscription_status(&self, id: &str, status: SubscriptionStatus, at: u64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE webhook_subscriptions SET status = $1, failing_since = CASE WHEN $2 = 'active' THEN NULL \
             ELSE failing_since END, updated_at = $3 WHERE id = $4",
        )
        .bind(status.as_str())
        .bind(status.as_str())
        .bind(at as i64)
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(unavailable)?;
        if status == SubscriptionStatus::Disabled {
            self.give_up_pending_of(id, at, "subscription disabled").await?;
        }
        Ok(done.rows_affected() > 0)
    }

    async fn record_with_messages(
        &self,
        traces: &[TraceEvent],
        messages: &[NewMessage],
    ) -> Result<Vec<TraceRecord>, StoreError> {
        let ring = self.ring()?;
        let mut statements = Vec::with_capacity(messages.len());
        for message in messages {
            statements.push(Statement {
                sql: "INSERT INTO webhook_messages (id, subscription, event_type, person, payload, state, attempts, \
                      created_at, next_attempt_at, locked_until, last_error, finished_at) \
                      VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7, 0, NULL, NULL)",
                binds: vec![
                    text(&message.id),
                    text(&message.subscription),
                    text(message.kind.as_str()),
                    Bind::Text(message.person.clone()),
                    text(ring.seal_text(&payload_context(&message.id), &message.payload)?),
                    int(message.at),
                    int(message.at),
                ],
            });
        }
        self.append_in_transaction(traces, &statements).await
    }

    async fn claim_due(&self, now: u64, lease: u64, limit: u32) -> Result<Vec<DueMessage>, StoreError> {
        // PostgreSQL: the rows another node is claiming are skipped, not waited for. SQLite has
        // one writer at a time: the statement is atomic as it is.
        let lock = if self.sqlite { "" } else { " FOR UPDATE SKIP LOCKED" };
        let statement = format!(
            "UPDATE webhook_messages SET locked_until = $1, attempts = attempts + 1 WHERE id IN (SELECT id FROM \
             webhook_messages WHERE state = 'pending' AND next_attempt_at <= $2 AND locked_until <= $3 \
             ORDER BY next_attempt_at, id LIMIT $4{lock}) AND state = 'pending' \
             RETURNING id, subscription, event_type, person, payload, attempts, created_at"
        );
        let rows = sqlx::query(&statement)
            .bind(now.saturating_add(lease) as i64)
            .bind(now as i64)
            .bind(now as i64)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(unavailable)?;
        let ring = self.ring()?;
        let mut due = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.try_get("id").map_err(unavailable)?;
            let sealed: Option<String> = row.try_get("payload").map_err(unavailable)?;
            let payload = ring.open_text(&payload_context(&id), sealed.as_deref().unwrap_or_default())?;
            due.push(DueMessage {
                subscription: row.try_get("subscription").map_err(unavailable)?,
                kind: kind_of(&row)?,
                person: row.try_get("person").map_err(unavailable)?,
                payload,
                attempts: row.try_get::<i32, _>("attempts").map_err(unavailable)?.max(0) as u32,
                created_at: time(&row, "created_at")?,
                id,
            });
        }
        due.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        Ok(due)
    }

    async fn settle(&self, message: &DueMessage, outcome: Outcome<'_>, at: u64) -> Result<(), StoreError> {
        let (statements, trace) = match outcome {
            Outcome::Delivered { trace } => (
                vec![
                    Statement {
                        sql: "UPDATE webhook_messages SET state = 'delivered', payload = NULL, finished_at = $1, \
                              locked_until = 0, last_error = NULL WHERE id = $2 AND state = 'pending'",
                        binds: vec![int(at), text(&message.id)],
                    },
                    Statement {
                        // Only when it was failing: a row updated by every delivery would be
                        // locked by each, one after the other.
                        sql: "UPDATE webhook_subscriptions SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL",
                        binds: vec![text(&message.subscription)],
                    },
                ],
                trace,
            ),
            Outcome::Retry { next_attempt_at, error } => (
                vec![
                    Statement {
                        sql: "UPDATE webhook_messages SET next_attempt_at = $1, locked_until = 0, last_error = $2 \
                              WHERE id = $3 AND state = 'pending'",
                        binds: vec![int(next_attempt_at), text(error), text(&message.id)],
                    },
                    Statement {
                        sql: "UPDATE webhook_subscriptions SET failing_since = $1 WHERE id = $2 AND failing_since IS NULL",
                        binds: vec![int(at), text(&message.subscription)],
                    },
                ],
                None,
            ),
            Outcome::GiveUp { error, trace } => (
                vec![Statement {
                    sql: "UPDATE webhook_messages SET state = 'dead', finished_at = $1, locked_until = 0, \
                          last_error = $2 WHERE id = $3 AND state = 'pending'",
                    binds: vec![int(at), text(error), text(&message.id)],
                }],
                trace,
            ),
        };
        let traces: Vec<TraceEvent> = trace.into_iter().cloned().collect();
        self.append_in_transaction(&traces, &statements).await.map(|_| ())
    }

    async fn messages(&self, state: Option<MessageState>, limit: u32) -> Result<Vec<MessageSummary>, StoreError> {
        let rows = match state {
            Some(state) => {
                sqlx::query(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM webhook_messages WHERE state = $1 ORDER BY created_at DESC, id LIMIT $2"
            ))
                .bind(state.as_str())
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM webhook_messages ORDER BY created_at DESC, id LIMIT $1"
                ))
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await
            }
        }
        .map_err(unavailable)?;
        rows.iter().map(summary).collect()
    }

    async fn message(&self, id: &str) -> Result<Option<MessageSummary>, StoreError> {
        let row = sqlx::query(&format!("SELECT {MESSAGE_COLUMNS} FROM webhook_messages WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(unavailable)?;
        row.as_ref().map(summary).transpose()
    }

    async fn replay(&self, id: &str, now: u64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE webhook_messages SET state = 'pending', attempts = 0, created_at = $1, next_attempt_at = $2, \
             locked_until = 0, finished_at = NULL WHERE id = $3 AND state = 'dead' AND payload IS NOT NULL",
        )
        .bind(now as i64)
        .bind(now as i64)
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() > 0)
    }

    async fn purge_finished(&self, before: u64) -> Result<u64, StoreError> {
        let mut transaction = self.pool().begin().await.map_err(unavailable)?;
        let removed = sqlx::query("DELETE FROM webhook_messages WHERE state = 'delivered' AND finished_at < $1")
            .bind(before as i64)
            .execute(&mut *transaction)
            .await
            .map_err(unavailable)?;
        let emptied = sqlx::query(
            "UPDATE webhook_messages SET payload = NULL WHERE state = 'dead' AND finished_at < $1 AND payload IS NOT NULL",
        )
        .bind(before as i64)
        .execute(&mut *transaction)
        .await
        .map_err(unavailable)?;
        transaction.commit().await.map_err(unavailable)?;
        Ok(removed.rows_affected() + emptied.rows_affected())
    }

    async fn pending_count(&self) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) FROM webhook_messages WHERE state = 'pending'")
            .fetch_one(self.pool())
            .await
            .map_err(unavailable)?;
        Ok(row.try_get::<i64, _>(0).map_err(unavailable)?.max(0) as u64)
    }
}
