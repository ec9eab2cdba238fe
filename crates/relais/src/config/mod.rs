//! The configuration file (TOML) and its checks. Every field is documented in the README.
//! Unknown fields are refused; an invalid value stops the start with a message naming the
//! field. Secrets may come from the file, from a `*_file` path, or from the environment
//! (`RELAIS_PAIRWISE_SECRET`, `RELAIS_SP_<ID>_CLIENT_SECRET`, `RELAIS_IDP_<ID>_CLIENT_SECRET`),
//! the environment winning.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use relais_domain::registration::is_loopback;
use relais_domain::{IdentityProvider, IdpId, PairwiseSecret, Secret, ServiceProvider, SpId};
use relais_server::HubSettings;
use relais_server::UpstreamTimeouts;
use serde::{Deserialize, Serialize};
use url::Url;

mod actors;
mod data;
mod notifications;
mod platform;
mod storage;

use actors::{identity_providers, service_providers};
pub use actors::{IdentityProviderSection, ServiceProviderSection};
use data::{data_providers, habilitations};
pub use data::{DataProviderSection, DataScopeSection, HabilitationSection};
use notifications::webhooks;
pub use notifications::{NotificationsSection, WebhookSection};
use platform::{mail, operators, portal};
pub use platform::{InstructorSection, MailSection, OperatorSection, PortalSection};
use storage::storage;
pub use storage::{EphemeralBackend, StorageConfig, StorageSection};

/// A configuration error, naming the field.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {field}: {message}")]
pub struct ConfigError {
    /// The field, as a path (`service_providers[0].redirect_uris`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn error(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError { field: field.into(), message: message.into() }
}

/// The whole file.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The hub itself.
    pub hub: HubSection,
    /// Upstream identity providers.
    #[serde(default)]
    pub identity_providers: Vec<IdentityProviderSection>,
    /// Service providers.
    #[serde(default)]
    pub service_providers: Vec<ServiceProviderSection>,
    /// Where state is kept.
    #[serde(default)]
    pub storage: StorageSection,
    /// Data providers.
    #[serde(default)]
    pub data_providers: Vec<DataProviderSection>,
    /// Habilitations of organisations to receive data.
    #[serde(default)]
    pub habilitations: Vec<HabilitationSection>,
    /// The credentials of the operator admin API.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operators: Vec<OperatorSection>,
    /// The partner portal (`/partenaires`); absent: no portal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal: Option<PortalSection>,
    /// The SMTP relay of the hub's mail; absent: no mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<MailSection>,
    /// The notifications to administrations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<NotificationsSection>,
    /// The administrations' subscriptions to notifications.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhooks: Vec<WebhookSection>,
}

pub use relais_domain::registration::DASHBOARD_CLIENT_ID;

impl ConfigFile {
    /// A file with `hub` and nothing else: actors and storage are added to its fields.
    pub fn new(hub: HubSection) -> Self {
        Self {
            hub,
            identity_providers: Vec::new(),
            service_providers: Vec::new(),
            storage: StorageSection::default(),
            data_providers: Vec::new(),
            habilitations: Vec::new(),
            operators: Vec::new(),
            portal: None,
            mail: None,
            notifications: None,
            webhooks: Vec::new(),
        }
    }

    /// The file as TOML text.
    pub fn to_toml(&self) -> Result<String, ConfigError> {
        toml::to_string(self).map_err(|e| error("(file)", e.to_string()))
    }
}

impl HubSection {
    /// The hub at `issuer`, every other setting at its default.
    pub fn new(issuer: Url, pairwise_secret: impl Into<String>) -> Self {
        Self {
            issuer,
            listen: default_listen(),
            data_dir: default_data_dir(),
            pairwise_secret: Some(pairwise_secret.into()),
            pairwise_secret_file: None,
            code_lifetime: default_code_lifetime(),
            access_token_lifetime: default_access_token_lifetime(),
            person_reference_lifetime: default_person_reference_lifetime(),
            id_token_lifetime: default_id_token_lifetime(),
            session_lifetime: default_session_lifetime(),
            pending_lifetime: default_pending_lifetime(),
            log_format: LogFormat::default(),
            operator_name: default_operator_name(),
            state_brand: false,
            support_email: None,
            support_url: None,
            upstream_timeout: default_upstream_timeout(),
            upstream_connect_timeout: default_upstream_connect_timeout(),
            metrics_token: None,
            metrics_token_file: None,
            organisation_registry: None,
        }
    }
}

/// `[hub]`
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HubSection {
    /// Public issuer URL.
    pub issuer: Url,
    /// Address to listen on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Directory for the signing keys.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Secret for the pairwise `sub`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pairwise_secret: Option<String>,
    /// File holding that secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pairwise_secret_file: Option<PathBuf>,
    /// Code lifetime, seconds.
    #[serde(default = "default_code_lifetime")]
    pub code_lifetime: u64,
    /// Access token lifetime, seconds.
    #[serde(default = "default_access_token_lifetime")]
    pub access_token_lifetime: u64,
    /// How long a person reference given to a citizen service may be exchanged by the agents
    /// instructing the file, seconds.
    #[serde(default = "default_person_reference_lifetime")]
    pub person_reference_lifetime: u64,
    /// ID token lifetime, seconds.
    #[serde(default = "default_id_token_lifetime")]
    pub id_token_lifetime: u64,
    /// Hub session lifetime, seconds.
    #[serde(default = "default_session_lifetime")]
    pub session_lifetime: u64,
    /// Time allowed to pick an IdP and sign in, seconds.
    #[serde(default = "default_pending_lifetime")]
    pub pending_lifetime: u64,
    /// `text` or `json` logs.
    #[serde(default)]
    pub log_format: LogFormat,
    /// Name of the operator shown in the pages' header and footer.
    #[serde(default = "default_operator_name")]
    pub operator_name: String,
    /// Whether the pages show the State's Marianne block ("République française"): reserved
    /// to State websites.
    #[serde(default)]
    pub state_brand: bool,
    /// The support's e-mail address, shown on error pages with the reference to quote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub support_email: Option<String>,
    /// The support's web page, shown on error pages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub support_url: Option<Url>,
    /// Seconds the hub waits for an IdP's answer (discovery, token, userinfo), connection
    /// included.
    #[serde(default = "default_upstream_timeout")]
    pub upstream_timeout: u64,
    /// Seconds the hub waits to connect to an IdP.
    #[serde(default = "default_upstream_connect_timeout")]
    pub upstream_connect_timeout: u64,
    /// The bearer token Prometheus presents at `/metrics` (none: no `/metrics`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_token: Option<String>,
    /// A file holding it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_token_file: Option<PathBuf>,
    /// The organisation registry (Sirene's shape, `GET {url}/siret/{siret}`): tells the agents'
    /// organisations' names and kinds. Without it, agent services that accept only public
    /// agents refuse every agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation_registry: Option<Url>,
}

fn default_upstream_timeout() -> u64 {
    10
}
fn default_upstream_connect_timeout() -> u64 {
    3
}

fn default_operator_name() -> String {
    "Relais".to_owned()
}

/// Log output format.
#[derive(Debug, Default, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8000))
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}
fn default_code_lifetime() -> u64 {
    60
}
/// Five minutes: Authlib and Spring Security treat a token as expired 60 s before its `exp`
/// (their default leeway), so a shorter lifetime leaves them little or nothing; logout revokes
/// a session's tokens, so a longer one does not outlive the person's sign-out.
fn default_access_token_lifetime() -> u64 {
    300
}
/// Ninety days: the time a town hall takes to instruct a file, with margin; the person signs
/// in again for a file filed later.
fn default_person_reference_lifetime() -> u64 {
    90 * 86_400
}
fn default_id_token_lifetime() -> u64 {
    300
}
fn default_session_lifetime() -> u64 {
    1800
}
fn default_pending_lifetime() -> u64 {
    900
}

/// The configuration, checked and resolved.
pub struct Config {
    /// The hub's settings.
    pub settings: HubSettings,
    /// Where to listen.
    pub listen: SocketAddr,
    /// Where the keys live.
    pub data_dir: PathBuf,
    /// Log format.
    pub log_format: LogFormat,
    /// The service providers.
    pub service_providers: Vec<ServiceProvider>,
    /// The identity providers.
    pub identity_providers: Vec<IdentityProvider>,
    /// Where state is kept.
    pub storage: StorageConfig,
    /// The data providers.
    pub data_providers: Vec<relais_domain::DataProvider>,
    /// The habilitations.
    pub habilitations: Vec<relais_domain::agent::Habilitation>,
    /// The administrations' subscriptions to notifications.
    pub webhooks: Vec<relais_domain::webhook::Subscription>,
}

/// Reads the environment; tests pass their own.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn env_name(kind: &str, id: &str) -> String {
    env_variable(kind, id, "CLIENT_SECRET")
}

/// `RELAIS_{KIND}_{ID}_{WHAT}`, the id upper-cased and its other characters as `_`.
fn env_variable(kind: &str, id: &str, what: &str) -> String {
    let id: String = id.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("RELAIS_{kind}_{id}_{what}")
}

fn secret(
    field: &str,
    inline: &Option<String>,
    file: &Option<PathBuf>,
    env_var: &str,
    env: Env,
) -> Result<Option<Secret>, ConfigError> {
    if let Some(value) = env(env_var).filter(|v| !v.is_empty()) {
        return Ok(Some(Secret::new(value)));
    }
    match (inline, file) {
        (Some(_), Some(_)) => Err(error(field, format!("give either {field} or {field}_file, not both"))),
        (Some(value), None) => Ok(Some(Secret::new(value.clone()))),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map(|v| Some(Secret::new(v.trim().to_owned())))
            .map_err(|e| error(format!("{field}_file"), format!("cannot read {}: {e}", path.display()))),
        (None, None) => Ok(None),
    }
}

impl Config {
    /// Parses and checks a TOML text. A value the file's types refuse (an unknown field, a
    /// level that is not `eidas1`..`eidas3`) is reported at its path in the file.
    pub fn from_toml(text: &str, env: Env) -> Result<Self, ConfigError> {
        let file: ConfigFile = serde_path_to_error::deserialize(toml::Deserializer::new(text)).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { "(file)".to_owned() } else { path };
            error(field, e.into_inner().message().trim().to_owned())
        })?;
        Self::from_file(file, env)
    }

    /// Reads and checks a configuration file.
    pub fn load(path: &std::path::Path, env: Env) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| error("--config", format!("cannot read {}: {e}", path.display())))?;
        Self::from_toml(&text, env)
    }

    /// Checks a parsed file.
    pub fn from_file(file: ConfigFile, env: Env) -> Result<Self, ConfigError> {
        let hub = file.hub;
        if hub.issuer.scheme() != "https" && !(hub.issuer.scheme() == "http" && is_loopback(&hub.issuer)) {
            return Err(error("hub.issuer", "must be an https URL (http is accepted on localhost only)"));
        }
        if hub.issuer.query().is_some() || hub.issuer.fragment().is_some() {
            return Err(error("hub.issuer", "must not have a query or fragment"));
        }
        if !(1..=60).contains(&hub.code_lifetime) {
            return Err(error("hub.code_lifetime", "must be between 1 and 60 seconds"));
        }
        for (field, value) in [
            ("hub.access_token_lifetime", hub.access_token_lifetime),
            ("hub.person_reference_lifetime", hub.person_reference_lifetime),
            ("hub.id_token_lifetime", hub.id_token_lifetime),
            ("hub.session_lifetime", hub.session_lifetime),
            ("hub.pending_lifetime", hub.pending_lifetime),
            ("hub.upstream_timeout", hub.upstream_timeout),
            ("hub.upstream_connect_timeout", hub.upstream_connect_timeout),
        ] {
            if value == 0 {
                return Err(error(field, "must be more than 0 seconds"));
            }
        }
        if hub.upstream_timeout > 60 || hub.upstream_connect_timeout > hub.upstream_timeout {
            let why = "must be at most 60 seconds, and upstream_connect_timeout at most upstream_timeout";
            return Err(error("hub.upstream_timeout", why));
        }
        let pairwise = secret(
            "hub.pairwise_secret",
            &hub.pairwise_secret,
            &hub.pairwise_secret_file,
            "RELAIS_PAIRWISE_SECRET",
            env,
        )?
        .ok_or_else(|| {
            error("hub.pairwise_secret", "is required (or hub.pairwise_secret_file, or RELAIS_PAIRWISE_SECRET)")
        })?;
        if pairwise.expose().len() < 32 {
            return Err(error("hub.pairwise_secret", "must be at least 32 characters"));
        }

        let metrics_token =
            secret("hub.metrics_token", &hub.metrics_token, &hub.metrics_token_file, "RELAIS_METRICS_TOKEN", env)?;
        if metrics_token.as_ref().is_some_and(|token| token.expose().len() < 32) {
            return Err(error("hub.metrics_token", "must be at least 32 characters"));
        }
        let operators = operators(file.operators, env)?;
        let identity_providers = identity_providers(file.identity_providers, env)?;
        let idp_ids: Vec<IdpId> = identity_providers.iter().map(|idp| idp.id.clone()).collect();
        let service_providers = service_providers(file.service_providers, &idp_ids, env)?;
        let sp_ids: Vec<SpId> = service_providers.iter().map(|sp| sp.id.clone()).collect();
        let data_providers = data_providers(file.data_providers, &sp_ids, env)?;
        let habilitations = habilitations(file.habilitations, &data_providers, &service_providers)?;
        let portal = portal(file.portal, &identity_providers, &data_providers)?;
        let mailer = mail(file.mail, env)?;
        let webhooks = webhooks(file.webhooks, &service_providers, env)?;
        let storage = storage(file.storage, &hub.data_dir, &pairwise, env)?;
        Ok(Config {
            data_providers,
            habilitations,
            webhooks,
            storage,
            settings: HubSettings {
                issuer: hub.issuer,
                code_lifetime: hub.code_lifetime,
                access_token_lifetime: hub.access_token_lifetime,
                person_reference_lifetime: hub.person_reference_lifetime,
                id_token_lifetime: hub.id_token_lifetime,
                session_lifetime: hub.session_lifetime,
                pending_lifetime: hub.pending_lifetime,
                pairwise_secret: PairwiseSecret::new(pairwise),
                brand: relais_server::Brand {
                    operator_name: hub.operator_name,
                    state_brand: hub.state_brand,
                    support_email: hub.support_email,
                    support_url: hub.support_url.map(|url| url.to_string()),
                },
                metrics_token,
                upstream_timeouts: UpstreamTimeouts {
                    connect: Duration::from_secs(hub.upstream_connect_timeout),
                    request: Duration::from_secs(hub.upstream_timeout),
                },
                organisation_registry: hub.organisation_registry,
                operators,
                portal,
                mailer,
                address_base: file.notifications.and_then(|section| section.address_base),
            },
            listen: hub.listen,
            data_dir: hub.data_dir,
            log_format: hub.log_format,
            service_providers,
            identity_providers,
        })
    }
}

#[cfg(test)]
mod tests;
