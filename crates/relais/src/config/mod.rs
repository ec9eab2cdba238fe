//! The configuration file (TOML) and its checks. Every field is documented in the README.
//! Unknown fields are refused; an invalid value stops the start with a message naming the
//! field. Secrets may come from the file, from a `*_file` path, or from the environment
//! (`RELAIS_PAIRWISE_SECRET`, `RELAIS_SP_<ID>_CLIENT_SECRET`, `RELAIS_IDP_<ID>_CLIENT_SECRET`),
//! the environment winning.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;

use relais_domain::providers::{ClientAuthentication, IdTokenAlgorithm, UpstreamClientAuth};
use relais_domain::{
    EidasLevel, IdentityProvider, IdpId, IdpPolicy, PairwiseSecret, Profile, Scope, ScopeSet, Secret, SecretDigest,
    Sector, ServiceProvider, SpId,
};
use relais_server::HubSettings;
use serde::Deserialize;
use url::Url;

mod data;
mod storage;

use data::data_providers;
pub use data::{DataProviderSection, DataScopeSection};
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
#[derive(Debug, Deserialize)]
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
}

pub use relais_server::DASHBOARD_CLIENT_ID;

/// `[hub]`
#[derive(Debug, Deserialize)]
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
    pub pairwise_secret: Option<String>,
    /// File holding that secret.
    pub pairwise_secret_file: Option<PathBuf>,
    /// Code lifetime, seconds.
    #[serde(default = "default_code_lifetime")]
    pub code_lifetime: u64,
    /// Access token lifetime, seconds.
    #[serde(default = "default_access_token_lifetime")]
    pub access_token_lifetime: u64,
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
}

fn default_operator_name() -> String {
    "Relais".to_owned()
}

/// Log output format.
#[derive(Debug, Default, Clone, Copy, Deserialize, PartialEq, Eq)]
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
fn default_access_token_lifetime() -> u64 {
    60
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
fn default_true() -> bool {
    true
}
fn default_idp_scopes() -> Vec<String> {
    [
        "openid",
        "given_name",
        "family_name",
        "birthdate",
        "gender",
        "birthplace",
        "birthcountry",
        "email",
        "preferred_username",
    ]
    .map(String::from)
    .to_vec()
}

/// `[[identity_providers]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityProviderSection {
    /// Registry id.
    pub id: String,
    /// Name on the choice page.
    pub display_name: String,
    /// Issuer URL (discovery).
    pub issuer: Url,
    /// The hub's client id there.
    pub client_id: String,
    /// The hub's client secret there.
    pub client_secret: Option<String>,
    /// File holding it.
    pub client_secret_file: Option<PathBuf>,
    /// `eidas1`, `eidas2` or `eidas3`.
    pub eidas_level: String,
    /// Offered or not.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Scopes asked of it.
    #[serde(default = "default_idp_scopes")]
    pub scopes: Vec<String>,
    /// Whether its ID tokens must carry an eIDAS `acr` (`false` for a generic provider,
    /// whose sign-ins then count at `eidas_level`).
    #[serde(default = "default_true")]
    pub require_acr: bool,
    /// `client_secret_basic` or `client_secret_post`.
    #[serde(default = "default_auth_method")]
    pub token_endpoint_auth_method: String,
    /// The federation it serves: `citizen` (the default).
    #[serde(default)]
    pub profile: Profile,
}

/// `[[service_providers]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceProviderSection {
    /// `client_id`
    pub client_id: String,
    /// Name shown to the person.
    pub name: String,
    /// `client_secret_basic`, `client_secret_post`, `private_key_jwt` or `none`.
    #[serde(default = "default_auth_method")]
    pub token_endpoint_auth_method: String,
    /// Client secret.
    pub client_secret: Option<String>,
    /// File holding it.
    pub client_secret_file: Option<PathBuf>,
    /// JWK Set (JSON text) for `private_key_jwt`.
    pub jwks: Option<String>,
    /// File holding that JWK Set.
    pub jwks_file: Option<PathBuf>,
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URIs.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Scopes it may ask for.
    pub scopes: Vec<String>,
    /// `ES256` or `RS256`.
    #[serde(default = "default_alg")]
    pub id_token_signed_response_alg: String,
    /// Sector for the pairwise `sub` (default: the client id).
    pub sector_identifier: Option<String>,
    /// Only these IdPs.
    pub allowed_idps: Option<Vec<String>>,
    /// All IdPs but these.
    pub denied_idps: Option<Vec<String>>,
    /// Minimum eIDAS level.
    pub minimum_eidas_level: Option<String>,
    /// The federation it belongs to: `citizen` (the default).
    #[serde(default)]
    pub profile: Profile,
}

fn default_auth_method() -> String {
    "client_secret_basic".into()
}
/// RS256 by default: OpenID Connect Discovery requires every provider to support it, and
/// client libraries accept it unconfigured.
fn default_alg() -> String {
    "RS256".into()
}

/// The shortest client secret accepted from a service provider.
const MINIMUM_SP_SECRET_LENGTH: usize = 32;

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
}

/// Reads the environment; tests pass their own.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn env_name(kind: &str, id: &str) -> String {
    let id: String = id.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("RELAIS_{kind}_{id}_CLIENT_SECRET")
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

fn level(field: &str, value: &str) -> Result<EidasLevel, ConfigError> {
    EidasLevel::from_acr(value).ok_or_else(|| error(field, format!("`{value}` is not one of eidas1, eidas2, eidas3")))
}

fn is_loopback(url: &Url) -> bool {
    matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
}

/// `https`, or `http` on the loopback only (RFC 9700 section 2.6: no cleartext outside a
/// developer's machine). Other schemes (a native application's) are left to `allow_other`.
fn check_transport(field: &str, url: &Url, allow_other: bool) -> Result<(), ConfigError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(error(field, format!("`{url}` must be https (http is accepted on localhost only)"))),
        _ if allow_other => Ok(()),
        other => Err(error(field, format!("`{url}`: scheme `{other}` is not https"))),
    }
}

impl Config {
    /// Parses and checks a TOML text.
    pub fn from_toml(text: &str, env: Env) -> Result<Self, ConfigError> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| error("(file)", e.to_string().trim().to_owned()))?;
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
            ("hub.id_token_lifetime", hub.id_token_lifetime),
            ("hub.session_lifetime", hub.session_lifetime),
            ("hub.pending_lifetime", hub.pending_lifetime),
        ] {
            if value == 0 {
                return Err(error(field, "must be more than 0 seconds"));
            }
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

        let mut idp_ids = HashSet::new();
        let mut identity_providers = Vec::new();
        for (index, idp) in file.identity_providers.into_iter().enumerate() {
            let at = |name: &str| format!("identity_providers[{index}].{name}");
            if idp.id.is_empty() || !idp_ids.insert(idp.id.clone()) {
                return Err(error(at("id"), format!("`{}` is empty or not unique", idp.id)));
            }
            if !idp.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                return Err(error(at("id"), "only letters, digits, `-` and `_` (it is part of the callback URL)"));
            }
            check_transport(&at("issuer"), &idp.issuer, false)?;
            let token_auth = match idp.token_endpoint_auth_method.as_str() {
                "client_secret_basic" => UpstreamClientAuth::SecretBasic,
                "client_secret_post" => UpstreamClientAuth::SecretPost,
                other => {
                    return Err(error(
                        at("token_endpoint_auth_method"),
                        format!("`{other}` is not client_secret_basic or client_secret_post"),
                    ))
                }
            };
            let client_secret = secret(
                &at("client_secret"),
                &idp.client_secret,
                &idp.client_secret_file,
                &env_name("IDP", &idp.id),
                env,
            )?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| error(at("client_secret"), "is required"))?;
            if !idp.scopes.iter().any(|s| s == "openid") {
                return Err(error(at("scopes"), "must include openid"));
            }
            identity_providers.push(IdentityProvider {
                id: IdpId::new(idp.id.clone()),
                display_name: idp.display_name,
                issuer: idp.issuer,
                client_id: idp.client_id,
                client_secret,
                level: level(&at("eidas_level"), &idp.eidas_level)?,
                enabled: idp.enabled,
                scopes: idp.scopes,
                require_acr: idp.require_acr,
                token_auth,
                profile: idp.profile,
            });
        }

        let mut sp_ids = HashSet::new();
        let mut service_providers = Vec::new();
        for (index, sp) in file.service_providers.into_iter().enumerate() {
            let at = |name: &str| format!("service_providers[{index}].{name}");
            if sp.client_id.is_empty() || !sp_ids.insert(sp.client_id.clone()) {
                return Err(error(at("client_id"), format!("`{}` is empty or not unique", sp.client_id)));
            }
            if sp.client_id == DASHBOARD_CLIENT_ID {
                return Err(error(at("client_id"), format!("`{DASHBOARD_CLIENT_ID}` is the hub's own dashboard")));
            }
            // The `relais:` sectors are the hub's: the dashboard's `sub` is the person key.
            if sp.sector_identifier.as_deref().is_some_and(|sector| sector.starts_with("relais:")) {
                return Err(error(at("sector_identifier"), "sectors starting with `relais:` are reserved"));
            }
            let secret = secret(
                &at("client_secret"),
                &sp.client_secret,
                &sp.client_secret_file,
                &env_name("SP", &sp.client_id),
                env,
            )?;
            if secret.as_ref().is_some_and(|s| s.expose().len() < MINIMUM_SP_SECRET_LENGTH) {
                return Err(error(
                    at("client_secret"),
                    format!("must be at least {MINIMUM_SP_SECRET_LENGTH} characters"),
                ));
            }
            let authentication = match (sp.token_endpoint_auth_method.as_str(), secret) {
                ("client_secret_basic", Some(s)) => {
                    ClientAuthentication::SecretBasic(SecretDigest::of(&sp.client_id, &s))
                }
                ("client_secret_post", Some(s)) => {
                    ClientAuthentication::SecretPost(SecretDigest::of(&sp.client_id, &s))
                }
                ("client_secret_basic" | "client_secret_post", None) => {
                    return Err(error(at("client_secret"), "is required by this token_endpoint_auth_method"))
                }
                ("private_key_jwt", _) => {
                    let jwks = match (&sp.jwks, &sp.jwks_file) {
                        (Some(jwks), None) => jwks.clone(),
                        (None, Some(path)) => std::fs::read_to_string(path)
                            .map_err(|e| error(at("jwks_file"), format!("cannot read {}: {e}", path.display())))?,
                        _ => return Err(error(at("jwks"), "private_key_jwt needs exactly one of jwks or jwks_file")),
                    };
                    let parsed: serde_json::Value =
                        serde_json::from_str(&jwks).map_err(|e| error(at("jwks"), format!("not JSON: {e}")))?;
                    if parsed["keys"].as_array().is_none_or(|keys| keys.is_empty()) {
                        return Err(error(at("jwks"), "must be a JWK Set with at least one key"));
                    }
                    ClientAuthentication::PrivateKeyJwt { jwks }
                }
                ("none", None) => ClientAuthentication::None,
                ("none", Some(_)) => return Err(error(at("client_secret"), "a public client (none) has no secret")),
                (other, _) => {
                    return Err(error(
                        at("token_endpoint_auth_method"),
                        format!(
                            "`{other}` is not one of client_secret_basic, client_secret_post, private_key_jwt, none"
                        ),
                    ))
                }
            };
            if sp.redirect_uris.is_empty() {
                return Err(error(at("redirect_uris"), "must list at least one URI"));
            }
            for (field, uris) in
                [("redirect_uris", &sp.redirect_uris), ("post_logout_redirect_uris", &sp.post_logout_redirect_uris)]
            {
                for uri in uris.iter() {
                    let parsed = Url::parse(uri).map_err(|e| error(at(field), format!("`{uri}`: {e}")))?;
                    check_transport(&at(field), &parsed, true)?;
                    if parsed.fragment().is_some() {
                        return Err(error(at(field), format!("`{uri}` must not have a fragment")));
                    }
                }
            }
            let mut scopes = Vec::new();
            for name in &sp.scopes {
                scopes.push(Scope::parse(name).ok_or_else(|| error(at("scopes"), format!("unknown scope `{name}`")))?);
            }
            if !scopes.contains(&Scope::OpenId) {
                return Err(error(at("scopes"), "must include openid"));
            }
            let id_token_algorithm = match sp.id_token_signed_response_alg.as_str() {
                "ES256" => IdTokenAlgorithm::ES256,
                "RS256" => IdTokenAlgorithm::RS256,
                other => {
                    return Err(error(at("id_token_signed_response_alg"), format!("`{other}` is not ES256 or RS256")))
                }
            };
            let idp_policy = match (sp.allowed_idps, sp.denied_idps) {
                (Some(_), Some(_)) => {
                    return Err(error(at("allowed_idps"), "give allowed_idps or denied_idps, not both"))
                }
                (Some(list), None) => IdpPolicy::AllowOnly(known_idps(&at("allowed_idps"), list, &idp_ids)?),
                (None, Some(list)) => IdpPolicy::Deny(known_idps(&at("denied_idps"), list, &idp_ids)?),
                (None, None) => IdpPolicy::All,
            };
            service_providers.push(ServiceProvider {
                sector: Sector::new(sp.sector_identifier.unwrap_or_else(|| sp.client_id.clone())),
                id: SpId::new(sp.client_id),
                name: sp.name,
                authentication,
                redirect_uris: sp.redirect_uris,
                post_logout_redirect_uris: sp.post_logout_redirect_uris,
                scopes: ScopeSet::from_scopes(scopes),
                id_token_algorithm,
                idp_policy,
                minimum_level: sp
                    .minimum_eidas_level
                    .as_deref()
                    .map(|l| level(&at("minimum_eidas_level"), l))
                    .transpose()?
                    .unwrap_or(EidasLevel::Low),
                profile: sp.profile,
            });
        }

        let data_providers = data_providers(file.data_providers, &sp_ids, env)?;
        let storage = storage(file.storage, &hub.data_dir, &pairwise, env)?;
        Ok(Config {
            data_providers,
            storage,
            settings: HubSettings {
                issuer: hub.issuer,
                code_lifetime: hub.code_lifetime,
                access_token_lifetime: hub.access_token_lifetime,
                id_token_lifetime: hub.id_token_lifetime,
                session_lifetime: hub.session_lifetime,
                pending_lifetime: hub.pending_lifetime,
                pairwise_secret: PairwiseSecret::new(pairwise),
                brand: relais_server::Brand { operator_name: hub.operator_name, state_brand: hub.state_brand },
            },
            listen: hub.listen,
            data_dir: hub.data_dir,
            log_format: hub.log_format,
            service_providers,
            identity_providers,
        })
    }
}

fn known_idps(field: &str, list: Vec<String>, known: &HashSet<String>) -> Result<Vec<IdpId>, ConfigError> {
    list.into_iter()
        .map(|id| {
            if known.contains(&id) {
                Ok(IdpId::new(id))
            } else {
                Err(error(field, format!("unknown identity provider `{id}`")))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
