//! The `[[identity_providers]]` and `[[service_providers]]` sections: typed as the file gives
//! them (serde enums for every closed list), turned into registrations and checked by the
//! registration rules of `relais_domain::registration`, the same rules the admin API will use.

use std::path::PathBuf;

use relais_domain::providers::{IdTokenAlgorithm, UpstreamClientAuth};
use relais_domain::registration::{
    check_among_identity_providers, IdentityProviderRegistration, RegistrationError, ServiceProviderRegistration,
    TokenEndpointAuthMethod,
};
use relais_domain::{EidasLevel, IdentityProvider, IdpId, Profile, ServiceProvider};
use serde::{Deserialize, Serialize};
use url::Url;

use super::{env_name, error, secret, ConfigError, Env};

fn default_true() -> bool {
    true
}

fn default_idp_scopes() -> Vec<String> {
    relais_domain::registration::DEFAULT_IDP_SCOPES.iter().map(|scope| scope.to_string()).collect()
}

/// RS256 by default: OpenID Connect Discovery requires every provider to support it, and
/// client libraries accept it unconfigured.
fn default_alg() -> IdTokenAlgorithm {
    IdTokenAlgorithm::RS256
}

/// `[[identity_providers]]`
#[derive(Debug, Deserialize, Serialize)]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// File holding it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_file: Option<PathBuf>,
    /// `eidas1`, `eidas2` or `eidas3`.
    pub eidas_level: EidasLevel,
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
    #[serde(default)]
    pub token_endpoint_auth_method: UpstreamClientAuth,
    /// The federation it serves: `citizen` (the default) or `agent`.
    #[serde(default)]
    pub profile: Profile,
    /// For an agent IdP: the e-mail domains it serves (each proved by its operator).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<String>,
    /// For an agent IdP: it takes the e-mails no other IdP claims (at most one).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default_for_agents: bool,
}

/// `[[service_providers]]`
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceProviderSection {
    /// `client_id`
    pub client_id: String,
    /// Name shown to the person.
    pub name: String,
    /// `client_secret_basic`, `client_secret_post`, `private_key_jwt` or `none`.
    #[serde(default)]
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// Client secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// File holding it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_file: Option<PathBuf>,
    /// JWK Set (JSON text) for `private_key_jwt`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<String>,
    /// File holding that JWK Set.
    #[serde(skip_serializing_if = "Option::is_none")]
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
    pub id_token_signed_response_alg: IdTokenAlgorithm,
    /// Sector for the pairwise `sub` (default: the client id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sector_identifier: Option<String>,
    /// Only these IdPs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_idps: Option<Vec<String>>,
    /// All IdPs but these.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denied_idps: Option<Vec<String>>,
    /// Minimum eIDAS level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_eidas_level: Option<EidasLevel>,
    /// The federation it belongs to: `citizen` (the default) or `agent`.
    #[serde(default)]
    pub profile: Profile,
    /// For an agent service: only agents of public organisations.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub public_agents_only: bool,
}

impl IdentityProviderSection {
    /// An identity provider at `issuer`, trusted for `eidas_level`, where the hub is
    /// `client_id` with `client_secret`; the other fields at their defaults.
    pub fn new(
        id: &str,
        display_name: &str,
        issuer: Url,
        client_id: &str,
        client_secret: &str,
        eidas_level: EidasLevel,
    ) -> Self {
        Self {
            id: id.into(),
            display_name: display_name.into(),
            issuer,
            client_id: client_id.into(),
            client_secret: Some(client_secret.into()),
            client_secret_file: None,
            eidas_level,
            enabled: true,
            scopes: default_idp_scopes(),
            require_acr: true,
            token_endpoint_auth_method: UpstreamClientAuth::default(),
            profile: Profile::default(),
            domains: Vec::new(),
            default_for_agents: false,
        }
    }
}

impl ServiceProviderSection {
    /// A service provider with `client_secret` (`client_secret_basic`), or a public client
    /// without one; the other fields at their defaults.
    pub fn new(client_id: &str, name: &str, client_secret: Option<&str>, redirect_uri: &str, scopes: &[&str]) -> Self {
        Self {
            client_id: client_id.into(),
            name: name.into(),
            token_endpoint_auth_method: if client_secret.is_some() {
                TokenEndpointAuthMethod::ClientSecretBasic
            } else {
                TokenEndpointAuthMethod::None
            },
            client_secret: client_secret.map(Into::into),
            client_secret_file: None,
            jwks: None,
            jwks_file: None,
            redirect_uris: vec![redirect_uri.into()],
            post_logout_redirect_uris: Vec::new(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            id_token_signed_response_alg: default_alg(),
            sector_identifier: None,
            allowed_idps: None,
            denied_idps: None,
            minimum_eidas_level: None,
            profile: Profile::default(),
            public_agents_only: false,
        }
    }
}

/// A registration error of the `index`th `section` entry, as a configuration error.
pub(super) fn at(section: &str, index: usize) -> impl Fn(RegistrationError) -> ConfigError + '_ {
    move |e| error(format!("{section}[{index}].{}", e.field), e.message)
}

pub(super) fn identity_providers(
    sections: Vec<IdentityProviderSection>,
    env: Env,
) -> Result<Vec<IdentityProvider>, ConfigError> {
    let mut providers: Vec<IdentityProvider> = Vec::new();
    for (index, idp) in sections.into_iter().enumerate() {
        let field = |name: &str| format!("identity_providers[{index}].{name}");
        if providers.iter().any(|known| known.id.as_str() == idp.id) {
            return Err(error(field("id"), format!("`{}` is not unique", idp.id)));
        }
        let client_secret = secret(
            &field("client_secret"),
            &idp.client_secret,
            &idp.client_secret_file,
            &env_name("IDP", &idp.id),
            env,
        )?;
        let registration = IdentityProviderRegistration {
            id: idp.id,
            display_name: idp.display_name,
            issuer: idp.issuer,
            client_id: idp.client_id,
            client_secret,
            eidas_level: idp.eidas_level,
            enabled: idp.enabled,
            scopes: idp.scopes,
            require_acr: idp.require_acr,
            token_endpoint_auth_method: idp.token_endpoint_auth_method,
            profile: idp.profile,
            domains: idp.domains,
            default_for_agents: idp.default_for_agents,
        };
        let provider = registration.register().map_err(at("identity_providers", index))?;
        check_among_identity_providers(&provider, &providers).map_err(at("identity_providers", index))?;
        providers.push(provider);
    }
    Ok(providers)
}

pub(super) fn service_providers(
    sections: Vec<ServiceProviderSection>,
    known_idps: &[IdpId],
    env: Env,
) -> Result<Vec<ServiceProvider>, ConfigError> {
    let mut providers: Vec<ServiceProvider> = Vec::new();
    for (index, sp) in sections.into_iter().enumerate() {
        let field = |name: &str| format!("service_providers[{index}].{name}");
        if providers.iter().any(|known| known.id.as_str() == sp.client_id) {
            return Err(error(field("client_id"), format!("`{}` is not unique", sp.client_id)));
        }
        let client_secret = secret(
            &field("client_secret"),
            &sp.client_secret,
            &sp.client_secret_file,
            &env_name("SP", &sp.client_id),
            env,
        )?;
        let jwks = match (sp.jwks, &sp.jwks_file) {
            (Some(_), Some(_)) => return Err(error(field("jwks"), "give jwks or jwks_file, not both")),
            (jwks, None) => jwks,
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| error(field("jwks_file"), format!("cannot read {}: {e}", path.display())))?,
            ),
        };
        let registration = ServiceProviderRegistration {
            client_id: sp.client_id,
            client_name: sp.name,
            token_endpoint_auth_method: sp.token_endpoint_auth_method,
            client_secret,
            jwks,
            redirect_uris: sp.redirect_uris,
            post_logout_redirect_uris: sp.post_logout_redirect_uris,
            scopes: sp.scopes,
            id_token_signed_response_alg: sp.id_token_signed_response_alg,
            sector_identifier: sp.sector_identifier,
            allowed_idps: sp.allowed_idps,
            denied_idps: sp.denied_idps,
            minimum_eidas_level: sp.minimum_eidas_level,
            profile: sp.profile,
            public_agents_only: sp.public_agents_only,
        };
        providers.push(registration.register(known_idps).map_err(at("service_providers", index))?);
    }
    Ok(providers)
}
