//! The admin API's bodies, named after OpenID Connect Dynamic Client Registration metadata
//! where a name exists (and after the configuration file's fields otherwise), and the parsing
//! of a request body that names the field it refuses.

use std::collections::BTreeMap;

use relais_domain::{EidasLevel, Profile};
use serde::de::DeserializeOwned;

use super::AdminError;

/// Parses a JSON body; a refusal names the field at fault (`redirect_uris[1]`).
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AdminError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let message = error.into_inner().to_string();
        // A missing field is reported at its parent: name the field itself.
        let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
        let field = match (path.as_str(), missing) {
            (".", Some(name)) => name.to_owned(),
            (".", None) => "body".to_owned(),
            (_, Some(name)) => format!("{path}.{name}"),
            (_, None) => path,
        };
        let french = format!("JSON refusé : {message}");
        AdminError::invalid(field, message, french)
    })
}

/// An eIDAS level by its `acr` value.
pub fn level(field: &str, value: &str) -> Result<EidasLevel, AdminError> {
    EidasLevel::from_acr(value).ok_or_else(|| {
        AdminError::invalid(field, "must be eidas1, eidas2 or eidas3", "doit être eidas1, eidas2 ou eidas3")
    })
}

/// A federation by name.
pub fn profile(value: Option<&str>) -> Result<Profile, AdminError> {
    match value {
        None | Some("citizen") => Ok(Profile::Citizen),
        Some("agent") => Ok(Profile::Agent),
        Some(_) => Err(AdminError::invalid("profile", "must be citizen or agent", "doit être citizen ou agent")),
    }
}

/// Where an actor comes from.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceName {
    /// The configuration file (read-only here).
    Configuration,
    /// This API or the partner portal.
    Registered,
}

impl From<relais_store::Source> for SourceName {
    fn from(source: relais_store::Source) -> Self {
        match source {
            relais_store::Source::Configuration => Self::Configuration,
            relais_store::Source::Registered => Self::Registered,
        }
    }
}

/// A service provider to register or replace (`PUT`).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceProviderBody {
    /// The name shown to people.
    #[schema(example = "Mairie de Trifouillis — cantine")]
    pub client_name: String,
    /// `client_secret_basic` (the default), `client_secret_post`, `private_key_jwt` or `none`.
    #[serde(default)]
    #[schema(example = "client_secret_basic")]
    pub token_endpoint_auth_method: Option<String>,
    /// A secret of 32 characters at least; omitted, one is generated (returned once) or, for a
    /// replacement, the current one is kept.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// For `private_key_jwt`: the client's JWK Set.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<serde_json::Value>,
    /// Where people come back after signing in: https (http on localhost only), no fragment.
    #[schema(example = json!(["https://mairie.example/callback"]))]
    pub redirect_uris: Vec<String>,
    /// Where people may go after signing out.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// The scopes it may ask for, space-separated; `openid` first.
    #[schema(example = "openid given_name family_name email")]
    pub scope: String,
    /// `RS256` (the default) or `ES256`.
    #[serde(default)]
    #[schema(example = "ES256")]
    pub id_token_signed_response_alg: Option<String>,
    /// The sector of its pairwise `sub` (default: its `client_id`).
    #[serde(default)]
    pub sector_identifier: Option<String>,
    /// Only these identity providers.
    #[serde(default)]
    pub allowed_idps: Option<Vec<String>>,
    /// Every identity provider but these.
    #[serde(default)]
    pub denied_idps: Option<Vec<String>>,
    /// The eIDAS level it needs at least (`eidas1`, `eidas2`, `eidas3`).
    #[serde(default)]
    #[schema(example = "eidas1")]
    pub minimum_eidas_level: Option<String>,
    /// `citizen` (the default) or `agent`.
    #[serde(default)]
    pub profile: Option<String>,
    /// For an agent service: only agents of public organisations.
    #[serde(default)]
    pub public_agents_only: bool,
}

/// A service provider as registered (never its secret).
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ServiceProviderView {
    /// Its `client_id`.
    pub client_id: String,
    /// The name shown to people.
    pub client_name: String,
    /// How it authenticates at the token endpoint.
    pub token_endpoint_auth_method: String,
    /// Its redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Its post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// The scopes it may ask for.
    pub scope: String,
    /// How its ID tokens are signed.
    pub id_token_signed_response_alg: String,
    /// The sector of its pairwise `sub`.
    pub sector_identifier: String,
    /// Only these identity providers (absent: no such restriction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_idps: Option<Vec<String>>,
    /// Every identity provider but these (absent: no such restriction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denied_idps: Option<Vec<String>>,
    /// The eIDAS level it needs at least.
    pub minimum_eidas_level: String,
    /// Its federation.
    pub profile: String,
    /// For an agent service: only agents of public organisations.
    pub public_agents_only: bool,
    /// Where it comes from.
    pub source: SourceName,
}

/// A secret shown once: the hub keeps only its digest.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct IssuedSecret {
    /// The actor's id (`client_id` of a service provider, `id` of a data provider).
    pub client_id: String,
    /// The secret: keep it now, it is not shown again.
    pub client_secret: String,
    /// `0`: it does not expire (RFC 7591).
    pub client_secret_expires_at: u64,
}

/// The answer to a `PUT` of a service provider: the registration, and the secret when one was
/// generated.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ServiceProviderWritten {
    /// The registration as kept.
    #[serde(flatten)]
    pub registration: ServiceProviderView,
    /// The generated secret, shown once (absent when the body gave one or the current one is
    /// kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// An identity provider to register or replace (`PUT`).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityProviderBody {
    /// The name on the choice page.
    pub display_name: String,
    /// Its issuer (https); its configuration is discovered from there.
    #[schema(example = "https://idp.example")]
    pub issuer: String,
    /// The hub's client id there.
    pub client_id: String,
    /// The hub's client secret there (sealed at rest); omitted for a replacement, the current
    /// one is kept.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// The highest level it is trusted for (`eidas1`, `eidas2`, `eidas3`).
    #[schema(example = "eidas2")]
    pub eidas_level: String,
    /// Offered or not (default: offered).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// The scopes the hub asks it for (default: `openid` and the pivot identity's).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// Whether its ID tokens must carry an eIDAS `acr` (default: yes).
    #[serde(default)]
    pub require_acr: Option<bool>,
    /// `client_secret_basic` (the default) or `client_secret_post`.
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
    /// `citizen` (the default) or `agent`.
    #[serde(default)]
    pub profile: Option<String>,
    /// For an agent IdP: the e-mail domains it serves.
    #[serde(default)]
    pub domains: Vec<String>,
    /// For an agent IdP: it takes the e-mails no other IdP claims.
    #[serde(default)]
    pub default_for_agents: bool,
    /// Its place on the choice page (default: where it is, or last).
    #[serde(default)]
    pub position: Option<i64>,
}

/// An identity provider as registered (never the hub's secret there).
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct IdentityProviderView {
    /// Its id.
    pub id: String,
    /// The name on the choice page.
    pub display_name: String,
    /// Its issuer.
    pub issuer: String,
    /// The hub's client id there.
    pub client_id: String,
    /// The highest level it is trusted for.
    pub eidas_level: String,
    /// Offered or not.
    pub enabled: bool,
    /// The scopes the hub asks it for.
    pub scopes: Vec<String>,
    /// Whether its ID tokens must carry an eIDAS `acr`.
    pub require_acr: bool,
    /// How the hub authenticates there.
    pub token_endpoint_auth_method: String,
    /// Its federation.
    pub profile: String,
    /// For an agent IdP: its e-mail domains.
    pub domains: Vec<String>,
    /// For an agent IdP: the default one.
    pub default_for_agents: bool,
    /// Where it comes from.
    pub source: SourceName,
}

/// A data scope of a data provider.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataScopeBody {
    /// The scope (`quotient_familial`).
    pub name: String,
    /// Its label for people.
    pub label: String,
    /// What it holds, for people.
    pub description: String,
}

/// A data provider to register or replace (`PUT`).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataProviderBody {
    /// Its name for people.
    pub name: String,
    /// Its checktoken secret (32 characters at least); omitted, one is generated (returned
    /// once) or, for a replacement, the current one is kept.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// `json` (the default) or `jwt` (RFC 9701 signed answers).
    #[serde(default)]
    pub checktoken_format: Option<String>,
    /// Its scopes.
    pub scopes: Vec<DataScopeBody>,
    /// The citizen services allowed each scope (`client_id` → scopes).
    #[serde(default)]
    pub allowed_service_providers: BTreeMap<String, Vec<String>>,
    /// Who may ask for its data, for the public catalogue.
    #[serde(default)]
    pub eligibility: String,
    /// Its rate limit (requests per minute and per service), for the catalogue.
    #[serde(default)]
    pub rate_limit_per_minute: Option<u32>,
    /// Its OpenAPI 3 description (a JSON object), rendered on its catalogue page.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub openapi: Option<serde_json::Value>,
    /// Where the hub checks once a minute that it answers (https), for its availability.
    #[serde(default)]
    pub status_url: Option<String>,
}

/// A data provider as registered (never its secret).
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct DataProviderView {
    /// Its id.
    pub id: String,
    /// Its name for people.
    pub name: String,
    /// `json` or `jwt`.
    pub checktoken_format: String,
    /// Its scopes.
    pub scopes: Vec<DataScopeBody>,
    /// The citizen services allowed each scope.
    pub allowed_service_providers: BTreeMap<String, Vec<String>>,
    /// Who may ask for its data.
    pub eligibility: String,
    /// Its rate limit, requests per minute and per service.
    pub rate_limit_per_minute: Option<u32>,
    /// Its OpenAPI description.
    #[schema(value_type = Option<Object>)]
    pub openapi: Option<serde_json::Value>,
    /// Where the hub checks that it answers.
    pub status_url: Option<String>,
    /// Where it comes from.
    pub source: SourceName,
}

/// The answer to a `PUT` of a data provider.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct DataProviderWritten {
    /// The registration as kept.
    #[serde(flatten)]
    pub registration: DataProviderView,
    /// The generated secret, shown once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// A habilitation to register or replace (`PUT`).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HabilitationBody {
    /// The organisation: a SIREN (every establishment) or one SIRET.
    #[schema(example = "21750001600019")]
    pub organisation: String,
    /// The procedure it serves.
    pub procedure: String,
    /// The legal text's reference.
    pub legal_basis: String,
    /// Where to read it (https).
    pub legal_basis_url: String,
    /// The data provider's id.
    pub data_provider: String,
    /// Its scopes covered.
    pub scopes: Vec<String>,
    /// The last day it is valid (`YYYY-MM-DD`, up to midnight, Paris time).
    #[schema(example = "2027-12-31")]
    pub valid_until: String,
    /// The citizen services where the files it instructs are filed.
    #[serde(default)]
    pub citizen_services: Vec<String>,
}

/// A habilitation as registered.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct HabilitationView {
    /// Its id.
    pub id: String,
    /// The organisation: a SIREN or a SIRET.
    pub organisation: String,
    /// The procedure it serves.
    pub procedure: String,
    /// The legal text's reference.
    pub legal_basis: String,
    /// Where to read it.
    pub legal_basis_url: String,
    /// The data provider's id.
    pub data_provider: String,
    /// Its scopes covered.
    pub scopes: Vec<String>,
    /// The last day it is valid (`YYYY-MM-DD`, Paris time).
    pub valid_until: String,
    /// The citizen services where the files it instructs are filed.
    pub citizen_services: Vec<String>,
    /// When it ends (seconds since the epoch, exclusive).
    pub expires_at: u64,
    /// Where it comes from.
    pub source: SourceName,
}

/// A signing key of the hub (never its private part).
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct KeyView {
    /// Its `kid`.
    pub kid: String,
    /// `RS256` or `ES256`.
    pub alg: String,
    /// When it was made (seconds since the epoch).
    pub created_at: u64,
    /// When it signs from.
    pub not_before: u64,
    /// When it is unpublished (absent: in use).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retire_at: Option<u64>,
}

/// A rotation of the signing keys.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotationBody {
    /// Seconds the new keys are published before they sign (default 86400, so that every
    /// verifier has fetched them; at most 30 days).
    #[serde(default)]
    pub publish_for: Option<u64>,
}

/// The keys a rotation added.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RotationView {
    /// Their `kid`s.
    pub added: Vec<String>,
    /// When they sign from.
    pub signs_from: u64,
}
