//! `relais admin …`: the operator admin API of a running hub (`/api/admin/`), from a terminal.
//! It prints the API's JSON; a refusal prints the field and what to fix, and exits with 1.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use url::Url;

/// Where the hub is and who calls it.
#[derive(Args, Debug)]
pub struct Connection {
    /// The hub's address (its issuer).
    #[arg(long, env = "RELAIS_ADMIN_URL", default_value = "http://127.0.0.1:8080")]
    pub url: Url,
    /// An operator's token (`[[operators]]`).
    #[arg(long, env = "RELAIS_ADMIN_TOKEN", hide_env_values = true)]
    pub token: String,
}

/// `relais admin`.
#[derive(Args, Debug)]
pub struct AdminArgs {
    /// Where the hub is and who calls it.
    #[command(flatten)]
    pub connection: Connection,
    /// What to do.
    #[command(subcommand)]
    pub command: AdminCommand,
}

/// `relais webhooks`: the notifications to administrations, through the admin API.
#[derive(Args, Debug)]
pub struct WebhooksArgs {
    /// Where the hub is and who calls it.
    #[command(flatten)]
    pub connection: Connection,
    /// What to do.
    #[command(subcommand)]
    pub command: WebhooksCommand,
}

/// The operations on notifications.
#[derive(Subcommand, Debug)]
pub enum WebhooksCommand {
    /// The subscriptions and how they fare (`disabled`: failing for more than 24 hours).
    List,
    /// The messages, newest first: `--state dead` lists the dead letters.
    Messages {
        /// `pending`, `delivered` or `dead`.
        #[arg(long)]
        state: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Puts a dead letter back in the queue (same `webhook-id`, another 24 hours of attempts).
    Replay {
        /// Its `webhook-id`.
        id: String,
    },
    /// Serves a disabled subscription again.
    Enable {
        /// Its id.
        id: String,
    },
    /// Stops serving a subscription (its pending messages become dead letters).
    Disable {
        /// Its id.
        id: String,
    },
}

/// The request of a `relais webhooks` command: method, path under the hub.
fn webhooks_request(command: &WebhooksCommand) -> (reqwest::Method, String) {
    use reqwest::Method;
    let escaped = |id: &str| -> String { url::form_urlencoded::byte_serialize(id.as_bytes()).collect() };
    match command {
        WebhooksCommand::List => (Method::GET, "api/admin/webhooks".to_owned()),
        WebhooksCommand::Messages { state, limit } => {
            let state = state.as_deref().map(|s| format!("&state={}", escaped(s))).unwrap_or_default();
            (Method::GET, format!("api/admin/webhook-messages?limit={limit}{state}"))
        }
        WebhooksCommand::Replay { id } => (Method::POST, format!("api/admin/webhook-messages/{}/replay", escaped(id))),
        WebhooksCommand::Enable { id } => (Method::POST, format!("api/admin/webhooks/{}/enable", escaped(id))),
        WebhooksCommand::Disable { id } => (Method::POST, format!("api/admin/webhooks/{}/disable", escaped(id))),
    }
}

/// Runs one `relais webhooks` command against the hub.
pub async fn run_webhooks(args: WebhooksArgs) -> anyhow::Result<String> {
    let (method, path) = webhooks_request(&args.command);
    call(&args.connection, method, &path, None).await
}

/// The kinds of actors of the registry.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Kind {
    /// Service providers (by `client_id`).
    ServiceProviders,
    /// Identity providers.
    IdentityProviders,
    /// Data providers.
    DataProviders,
    /// Habilitations.
    Habilitations,
    /// The partner portal's habilitation requests (`list`, `get`; `decide` decides one).
    HabilitationRequests,
}

impl Kind {
    fn path(self) -> &'static str {
        match self {
            Self::ServiceProviders => "service-providers",
            Self::IdentityProviders => "identity-providers",
            Self::DataProviders => "data-providers",
            Self::Habilitations => "habilitations",
            Self::HabilitationRequests => "habilitation-requests",
        }
    }
}

/// The admin API's operations.
#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// List every actor of a kind.
    List {
        /// The kind.
        kind: Kind,
    },
    /// Show one actor.
    Get {
        /// The kind.
        kind: Kind,
        /// Its id.
        id: String,
    },
    /// Register or replace an actor from a JSON file (`-`: standard input); the API's
    /// OpenAPI document (`/api/openapi.json`) describes the fields.
    Put {
        /// The kind.
        kind: Kind,
        /// Its id.
        id: String,
        /// The JSON body.
        #[arg(long, short)]
        file: PathBuf,
    },
    /// Remove an actor.
    Delete {
        /// The kind.
        kind: Kind,
        /// Its id.
        id: String,
    },
    /// Make a new secret for a service provider or a data provider (printed once).
    RenewSecret {
        /// `service-providers` or `data-providers`.
        kind: Kind,
        /// Its id.
        id: String,
    },
    /// Decide a habilitation request as the operator's instructor.
    Decide {
        /// The request's id.
        id: String,
        /// `approve`, `refuse`, `request_changes` or `revoke`.
        decision: String,
        /// Why (required but to approve).
        #[arg(long)]
        comment: Option<String>,
    },
    /// List the signing keys.
    Keys,
    /// Rotate the signing keys.
    RotateKeys {
        /// Seconds the new keys are published before they sign.
        #[arg(long, default_value_t = 86_400)]
        publish_for: u64,
    },
}

/// The request `command` makes: method, path under the hub, body.
fn request(command: &AdminCommand) -> anyhow::Result<(reqwest::Method, String, Option<String>)> {
    use reqwest::Method;
    let actor = |kind: &Kind, id: &str| {
        let id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
        format!("api/admin/{}/{}", kind.path(), id.replace('+', "%20"))
    };
    Ok(match command {
        AdminCommand::List { kind } => (Method::GET, format!("api/admin/{}", kind.path()), None),
        AdminCommand::Get { kind, id } => (Method::GET, actor(kind, id), None),
        AdminCommand::Put { kind, id, file } => {
            let body = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin()).context("cannot read standard input")?
            } else {
                std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?
            };
            (Method::PUT, actor(kind, id), Some(body))
        }
        AdminCommand::Delete { kind, id } => (Method::DELETE, actor(kind, id), None),
        AdminCommand::RenewSecret { kind: kind @ (Kind::ServiceProviders | Kind::DataProviders), id } => {
            (Method::POST, format!("{}/client-secret", actor(kind, id)), None)
        }
        AdminCommand::RenewSecret { .. } => {
            anyhow::bail!("only service-providers and data-providers have a secret")
        }
        AdminCommand::Decide { id, decision, comment } => {
            let body = serde_json::json!({ "decision": decision, "comment": comment }).to_string();
            (Method::POST, format!("{}/decision", actor(&Kind::HabilitationRequests, id)), Some(body))
        }
        AdminCommand::Keys => (Method::GET, "api/admin/keys".to_owned(), None),
        AdminCommand::RotateKeys { publish_for } => {
            (Method::POST, "api/admin/keys/rotation".to_owned(), Some(format!("{{\"publish_for\":{publish_for}}}")))
        }
    })
}

/// The language the API answers in: French when the locale of the shell is French (`LC_ALL`,
/// `LC_MESSAGES`, then `LANG`, as gettext reads them), English otherwise.
fn language(var: impl Fn(&str) -> Option<String>) -> &'static str {
    let locale = ["LC_ALL", "LC_MESSAGES", "LANG"].into_iter().find_map(|name| var(name).filter(|v| !v.is_empty()));
    match locale {
        Some(locale) if locale.starts_with("fr") => "fr",
        _ => "en",
    }
}

/// Runs one command against the hub; returns what to print, or the API's refusal as an error.
pub async fn run(args: AdminArgs) -> anyhow::Result<String> {
    let (method, path, body) = request(&args.command)?;
    call(&args.connection, method, &path, body).await
}

async fn call(
    connection: &Connection,
    method: reqwest::Method,
    path: &str,
    body: Option<String>,
) -> anyhow::Result<String> {
    let args = connection;
    let mut base = args.url.clone();
    if !base.path().ends_with('/') {
        base.set_path(&format!("{}/", base.path()));
    }
    let url = base.join(path).with_context(|| format!("{path} under {base}"))?;
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build()?;
    let mut request = client
        .request(method, url.clone())
        .bearer_auth(&args.token)
        .header(reqwest::header::ACCEPT_LANGUAGE, language(|name| std::env::var(name).ok()));
    if let Some(body) = body {
        request = request.header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
    }
    let response = request.send().await.with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let json: Option<serde_json::Value> = serde_json::from_str(&text).ok();
    if status.is_success() {
        return Ok(match json {
            Some(value) => serde_json::to_string_pretty(&value)?,
            None if status == reqwest::StatusCode::NO_CONTENT => "done".to_owned(),
            None => text,
        });
    }
    let described = json.as_ref().and_then(|value| {
        let description = value["error_description"].as_str()?;
        Some(match value["field"].as_str() {
            Some(field) => format!("{field}: {description}"),
            None => description.to_owned(),
        })
    });
    anyhow::bail!("{status}: {}", described.unwrap_or(text))
}

#[cfg(test)]
mod tests {
    use super::language;

    #[test]
    fn the_api_answers_in_the_shells_language() {
        let shell = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned())
        };
        assert_eq!(language(shell(&[("LANG", "fr_FR.UTF-8")])), "fr");
        assert_eq!(language(shell(&[("LANG", "fr_FR.UTF-8"), ("LC_ALL", "C.UTF-8")])), "en");
        assert_eq!(language(shell(&[("LC_ALL", ""), ("LANG", "fr_CA")])), "fr");
        assert_eq!(language(shell(&[])), "en");
    }
}
