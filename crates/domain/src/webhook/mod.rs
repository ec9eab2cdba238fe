//! Notifications to administrations, as [Standard Webhooks](https://www.standardwebhooks.com/):
//! who subscribes to which event kind, how a message is signed (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>` over
//! `id.timestamp.body` with the subscription's `whsec_` secret), and when a failed delivery is
//! tried again (exponential backoff with jitter, for 24 hours). The outbox that carries the
//! messages is the store's; the sender is the server's.

mod retry;
mod signature;

pub use retry::{Attempt, RetryRule};
pub use signature::{sign, verify, SignatureError, WebhookSecret, SIGNATURE_TOLERANCE};

use crate::ids::SpId;

/// The kinds of event an administration may subscribe to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum EventKind {
    /// A person declared a new address and chose to inform this administration.
    #[serde(rename = "address.changed")]
    AddressChanged,
    /// A file of a procedure changed state (demarches-simplifiees' state names).
    #[serde(rename = "dossier.state_changed")]
    DossierStateChanged,
}

impl EventKind {
    /// Every kind.
    pub const ALL: [Self; 2] = [Self::AddressChanged, Self::DossierStateChanged];

    /// The `type` of the payload.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AddressChanged => "address.changed",
            Self::DossierStateChanged => "dossier.state_changed",
        }
    }

    /// Parses a `type`.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }
}

/// An administration's subscription: which events it receives, where, signed with what.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Subscription {
    /// Its identifier (`caf-adresses`).
    pub id: String,
    /// The administration: a service provider of the hub, whose pairwise `sub` names the
    /// person in the payload (so it receives the identifier it already knows them by).
    pub service: SpId,
    /// The kinds it receives.
    pub events: Vec<EventKind>,
    /// Its endpoint (HTTPS; HTTP on the loopback for tests and the demo).
    pub url: url::Url,
    /// The signing secret.
    pub secret: WebhookSecret,
    /// A sentence shown to the person choosing whom to inform (`Allocations familiales`).
    #[serde(default)]
    pub description: String,
}

/// Why a subscription is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    /// The identifier is empty, too long or not `[a-z0-9-_.]`.
    #[error("the subscription id must be 1 to 64 lower-case letters, digits, `-`, `_` or `.`")]
    BadId,
    /// No event kind.
    #[error("a subscription receives at least one event kind (address.changed, dossier.state_changed)")]
    NoEvent,
    /// The endpoint is not HTTPS (nor HTTP on the loopback).
    #[error("the endpoint must be https (http only on localhost or 127.0.0.1), without credentials or fragment")]
    BadUrl,
}

impl SubscriptionError {
    /// The same, in French.
    pub fn message_fr(&self) -> &'static str {
        match self {
            Self::BadId => "l'identifiant de l'abonnement doit faire 1 à 64 caractères parmi a-z, 0-9, `-`, `_` et `.`",
            Self::NoEvent => {
                "un abonnement reçoit au moins un type d'événement (address.changed, dossier.state_changed)"
            }
            Self::BadUrl => {
                "l'adresse de réception doit être en https (http seulement sur localhost ou 127.0.0.1), sans identifiants ni fragment"
            }
        }
    }
}

impl Subscription {
    /// Checks what a configuration or the admin API declared.
    pub fn check(&self) -> Result<(), SubscriptionError> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
        if !id_ok {
            return Err(SubscriptionError::BadId);
        }
        if self.events.is_empty() {
            return Err(SubscriptionError::NoEvent);
        }
        let loopback = matches!(self.url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        let scheme_ok = self.url.scheme() == "https" || (self.url.scheme() == "http" && loopback);
        if !scheme_ok
            || !self.url.username().is_empty()
            || self.url.password().is_some()
            || self.url.fragment().is_some()
        {
            return Err(SubscriptionError::BadUrl);
        }
        Ok(())
    }

    /// Whether it receives events of `kind`.
    pub fn receives(&self, kind: EventKind) -> bool {
        self.events.contains(&kind)
    }
}

/// Whether a subscription is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    /// Its messages are delivered.
    Active,
    /// It failed for longer than the retry rule allows: nothing is sent to it until an operator
    /// enables it again (its messages wait in the dead letters, to be replayed).
    Disabled,
}

impl SubscriptionStatus {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }

    /// Parses a stored status.
    pub fn parse(value: &str) -> Option<Self> {
        [Self::Active, Self::Disabled].into_iter().find(|s| s.as_str() == value)
    }
}

/// Where a message stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageState {
    /// Waiting for its next attempt.
    Pending,
    /// Answered 2xx by the receiver; its payload is erased.
    Delivered,
    /// Given up (24 hours of failures, or its receiver disabled): in the dead letters, until an
    /// operator replays it.
    Dead,
}

impl MessageState {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }

    /// Parses a stored state.
    pub fn parse(value: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Dead].into_iter().find(|s| s.as_str() == value)
    }
}

/// The `webhook-id` of a new message: `msg_` and 32 hex digits of `random` (16 random bytes).
pub fn message_id(random: [u8; 16]) -> String {
    format!("msg_{}", crate::lower_hex(&random))
}

/// The body of a message: Standard Webhooks' `{type, timestamp, data}`, `timestamp` in RFC
/// 3339 (UTC).
pub fn payload(kind: EventKind, at: crate::UnixTime, data: serde_json::Value) -> serde_json::Value {
    serde_json::json!({ "type": kind.as_str(), "timestamp": crate::civil_time::rfc3339_utc(at), "data": data })
}

#[cfg(test)]
mod tests;
