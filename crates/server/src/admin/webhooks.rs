//! `/api/admin/webhooks` and `/api/admin/webhook-messages`: the administrations' subscriptions
//! to notifications and how they fare (a receiver failing for more than 24 hours is disabled
//! and shown here), the messages waiting, delivered or given up (the dead letters), and the
//! operator's two moves: enable a subscription again, replay a dead letter (another 24 hours of
//! attempts, with the same `webhook-id` so that the receiver de-duplicates). Secrets and
//! payloads are never shown.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use relais_domain::step::StepEvent;
use relais_domain::webhook::{MessageState, SubscriptionStatus};
use serde::{Deserialize, Serialize};

use super::{answer, plausible_id, AdminError, ErrorBody, Id, Operator};
use crate::state::AppState;

/// A subscription, as the operator sees it.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SubscriptionView {
    /// Its id.
    #[schema(example = "caf-adresses")]
    pub id: String,
    /// The administration (a service provider's `client_id`).
    pub service: String,
    /// The event kinds it receives.
    #[schema(example = json!(["address.changed"]))]
    pub events: Vec<String>,
    /// Its endpoint.
    pub url: String,
    /// What the person reads when choosing whom to inform.
    pub description: String,
    /// `active` or `disabled` (failing for more than 24 hours, or by the operator).
    #[schema(example = "active")]
    pub status: String,
    /// Since when its deliveries fail without a success (seconds since the epoch; none: the
    /// last one succeeded).
    pub failing_since: Option<u64>,
    /// `configuration` or `registered`.
    pub source: String,
}

/// A message, as the operator sees it (no payload).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageView {
    /// Its `webhook-id`.
    #[schema(example = "msg_5f0c3e0a9d1b4c7e8f2a6b3d4c5e6f70")]
    pub id: String,
    /// The subscription it goes to.
    pub subscription: String,
    /// Its event kind.
    #[schema(example = "address.changed")]
    pub event_type: String,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    /// The attempts made.
    pub attempts: u32,
    /// When it was written (or replayed), seconds since the epoch.
    pub created_at: u64,
    /// When it is tried next (pending).
    pub next_attempt_at: u64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was delivered or given up.
    pub finished_at: Option<u64>,
}

/// The filter of the messages' list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct MessageQuery {
    /// `pending`, `delivered` or `dead` (the dead letters); all when absent.
    pub state: Option<String>,
    /// At most this many, newest first (1 to 1000; 100 when absent).
    pub limit: Option<u32>,
}

/// The subscriptions.
#[utoipa::path(get, path = "/api/admin/webhooks", tag = "webhooks",
    responses(
        (status = 200, description = "Every subscription and how it fares", body = Vec<SubscriptionView>),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 503, description = "The registry cannot be reached", body = ErrorBody),
    ))]
pub async fn list(State(state): State<AppState>, _operator: Operator) -> Result<Response, AdminError> {
    let views: Vec<SubscriptionView> = state
        .outbox
        .subscriptions()
        .await?
        .into_iter()
        .map(|record| SubscriptionView {
            id: record.subscription.id,
            service: record.subscription.service.to_string(),
            events: record.subscription.events.iter().map(|kind| kind.as_str().to_owned()).collect(),
            url: record.subscription.url.to_string(),
            description: record.subscription.description,
            status: record.status.as_str().to_owned(),
            failing_since: record.failing_since,
            source: record.source.as_str().to_owned(),
        })
        .collect();
    Ok(answer(StatusCode::OK, views))
}

/// Serves a subscription again (its failures forgotten); its dead letters stay dead until
/// replayed.
#[utoipa::path(post, path = "/api/admin/webhooks/{id}/enable", tag = "webhooks",
    params(("id" = String, Path, description = "The subscription's id")),
    responses(
        (status = 204, description = "Enabled"),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 404, description = "No such subscription", body = ErrorBody),
        (status = 503, description = "The registry cannot be reached", body = ErrorBody),
    ))]
pub async fn enable(State(state): State<AppState>, operator: Operator, Id(id): Id) -> Result<Response, AdminError> {
    set_status(&state, &operator, &id, SubscriptionStatus::Active).await
}

/// Stops serving a subscription: its pending messages are given up (dead letters).
#[utoipa::path(post, path = "/api/admin/webhooks/{id}/disable", tag = "webhooks",
    params(("id" = String, Path, description = "The subscription's id")),
    responses(
        (status = 204, description = "Disabled"),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 404, description = "No such subscription", body = ErrorBody),
        (status = 503, description = "The registry cannot be reached", body = ErrorBody),
    ))]
pub async fn disable(State(state): State<AppState>, operator: Operator, Id(id): Id) -> Result<Response, AdminError> {
    set_status(&state, &operator, &id, SubscriptionStatus::Disabled).await
}

async fn set_status(
    state: &AppState,
    operator: &Operator,
    id: &str,
    status: SubscriptionStatus,
) -> Result<Response, AdminError> {
    plausible_id(id)?;
    let now = state.clock.now();
    if !state.outbox.set_subscription_status(id, status, now.0).await? {
        return Err(no_subscription(id));
    }
    let change = if status == SubscriptionStatus::Active { "enabled" } else { "disabled" };
    state.tracer.emit(StepEvent::notifications_change(now, &operator.author(), id, change)).await?;
    Ok(super::removed())
}

fn no_subscription(id: &str) -> AdminError {
    AdminError::not_found(
        format!("no subscription `{}`", id.escape_default()),
        format!("aucun abonnement `{}`", id.escape_default()),
    )
}

/// The messages, newest first.
#[utoipa::path(get, path = "/api/admin/webhook-messages", tag = "webhooks",
    params(MessageQuery),
    responses(
        (status = 200, description = "The messages", body = Vec<MessageView>),
        (status = 400, description = "A bad filter", body = ErrorBody),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 503, description = "The outbox cannot be reached", body = ErrorBody),
    ))]
pub async fn messages(
    State(state): State<AppState>,
    _operator: Operator,
    query: Result<Query<MessageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AdminError> {
    let Query(query) = query.map_err(|rejection| {
        let text = rejection.body_text();
        AdminError::invalid("query", text.clone(), format!("paramètres invalides : {text}"))
    })?;
    let filter = match query.state.as_deref() {
        None => None,
        Some(name) => Some(MessageState::parse(name).ok_or_else(|| {
            AdminError::invalid(
                "state",
                "one of `pending`, `delivered`, `dead`",
                "l'un de `pending`, `delivered`, `dead`",
            )
        })?),
    };
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(AdminError::invalid("limit", "between 1 and 1000", "entre 1 et 1000"));
    }
    let views: Vec<MessageView> = state
        .outbox
        .messages(filter, limit)
        .await?
        .into_iter()
        .map(|message| MessageView {
            id: message.id,
            subscription: message.subscription,
            event_type: message.kind.as_str().to_owned(),
            state: message.state.as_str().to_owned(),
            attempts: message.attempts,
            created_at: message.created_at,
            next_attempt_at: message.next_attempt_at,
            last_error: message.last_error,
            finished_at: message.finished_at,
        })
        .collect();
    Ok(answer(StatusCode::OK, views))
}

/// Puts a dead letter back in the queue, for another 24 hours of attempts, with its
/// `webhook-id`.
#[utoipa::path(post, path = "/api/admin/webhook-messages/{id}/replay", tag = "webhooks",
    params(("id" = String, Path, description = "The message's `webhook-id`")),
    responses(
        (status = 204, description = "Back in the queue"),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 404, description = "No such dead letter", body = ErrorBody),
        (status = 409, description = "Its subscription is disabled: enable it first", body = ErrorBody),
        (status = 503, description = "The outbox cannot be reached", body = ErrorBody),
    ))]
pub async fn replay(State(state): State<AppState>, operator: Operator, Id(id): Id) -> Result<Response, AdminError> {
    plausible_id(&id)?;
    let message = state.outbox.message(&id).await?.filter(|message| message.state == MessageState::Dead);
    let Some(message) = message else {
        return Err(AdminError::not_found(
            format!("no dead letter `{}`", id.escape_default()),
            format!("aucun message abandonné `{}`", id.escape_default()),
        ));
    };
    let subscriptions = state.outbox.subscriptions().await?;
    let active = subscriptions
        .iter()
        .any(|record| record.subscription.id == message.subscription && record.status == SubscriptionStatus::Active);
    if !active {
        return Err(AdminError::conflict(
            format!("the subscription `{}` is disabled or removed: enable it first", message.subscription),
            format!("l'abonnement `{}` est désactivé ou supprimé : réactivez-le d'abord", message.subscription),
        ));
    }
    let now = state.clock.now();
    if !state.outbox.replay(&id, now.0).await? {
        // Replayed or delivered meanwhile by another request.
        return Err(AdminError::conflict(
            format!("`{id}` is no longer a dead letter"),
            format!("`{id}` n'est plus un message abandonné"),
        ));
    }
    state.tracer.emit(StepEvent::notifications_change(now, &operator.author(), &id, "replayed")).await?;
    Ok(super::removed())
}
