//! The notifications to administrations in the configuration file: `[notifications]` (the
//! national address base that validates a new address) and `[[webhooks]]` (who receives which
//! events, where, signed with which secret).

use std::path::PathBuf;

use relais_domain::webhook::{EventKind, Subscription, WebhookSecret};
use relais_domain::{ServiceProvider, SpId};
use serde::{Deserialize, Serialize};
use url::Url;

use super::{env_variable, error, secret, ConfigError, Env};

/// `[notifications]`
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsSection {
    /// The national address base's search API (the shape of `api-adresse.data.gouv.fr`:
    /// `GET {address_base}/search/?q=…&limit=…`, GeoJSON features). Absent: the person cannot
    /// declare a change of address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_base: Option<Url>,
}

/// `[[webhooks]]`: an administration's subscription to notifications.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSection {
    /// Its identifier: `[a-z0-9-_.]`, 64 at most.
    pub id: String,
    /// The administration: a service provider of this file (its pairwise `sub` names the
    /// person in the payload).
    pub service: String,
    /// What it receives: `address.changed`, `dossier.state_changed`.
    pub events: Vec<String>,
    /// Its endpoint (https; http on localhost only).
    pub url: Url,
    /// The signing secret, `whsec_` and base64 of 24 to 64 bytes (`relais keys
    /// webhook-secret` makes one). Or `secret_file`, or `RELAIS_WEBHOOK_<ID>_SECRET`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// A file holding it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_file: Option<PathBuf>,
    /// What the person reads when choosing whom to inform (`Allocations familiales`).
    #[serde(default)]
    pub description: String,
}

/// The subscriptions of `[[webhooks]]`, each for a service of the file, unique by id.
pub(super) fn webhooks(
    sections: Vec<WebhookSection>,
    services: &[ServiceProvider],
    env: Env,
) -> Result<Vec<Subscription>, ConfigError> {
    let mut subscriptions: Vec<Subscription> = Vec::new();
    for (index, section) in sections.into_iter().enumerate() {
        let field = |name: &str| format!("webhooks[{index}].{name}");
        if subscriptions.iter().any(|known| known.id == section.id) {
            return Err(error(field("id"), format!("`{}` is not unique", section.id)));
        }
        if !services.iter().any(|sp| sp.id.as_str() == section.service) {
            return Err(error(
                field("service"),
                format!("`{}` is not a service provider of this file", section.service),
            ));
        }
        let mut events = Vec::new();
        for name in &section.events {
            let kind = EventKind::parse(name).ok_or_else(|| {
                error(
                    field("events"),
                    format!("`{name}` is not an event kind (address.changed, dossier.state_changed)"),
                )
            })?;
            events.push(kind);
        }
        let env_var = env_variable("WEBHOOK", &section.id, "SECRET");
        let secret = secret(&field("secret"), &section.secret, &section.secret_file, &env_var, env)?
            .ok_or_else(|| error(field("secret"), format!("is required (or secret_file, or {env_var})")))?;
        let secret = WebhookSecret::parse(secret.expose()).map_err(|e| error(field("secret"), e.to_string()))?;
        let subscription = Subscription {
            id: section.id,
            service: SpId::new(section.service),
            events,
            url: section.url,
            secret,
            description: section.description,
        };
        subscription.check().map_err(|e| {
            let name = match e {
                relais_domain::webhook::SubscriptionError::BadId => "id",
                relais_domain::webhook::SubscriptionError::NoEvent => "events",
                relais_domain::webhook::SubscriptionError::BadUrl => "url",
            };
            error(field(name), e.to_string())
        })?;
        subscriptions.push(subscription);
    }
    Ok(subscriptions)
}
