//! The registry's rows, as stored: versioned records of their own, named after OpenID Connect
//! Dynamic Client Registration metadata where a name exists, so the domain types can change
//! without corrupting what is stored, and so that nothing that authenticates is kept in clear.
//! A service provider's or a data provider's secret is kept as its digest only; the hub's own
//! client secret at an identity provider, which it must present, is sealed with the
//! key-encryption keys. Rows written before the versioned layout (the domain's own JSON) are
//! still read.

use std::collections::BTreeMap;

use relais_domain::agent::{AgentClaim, EmailDomain, Habilitation};
use relais_domain::api_description::ProviderAbout;
use relais_domain::providers::{ClientAuthentication, IdTokenAlgorithm, UpstreamClientAuth};
use relais_domain::{
    DataProvider, DataScope, DpId, EidasLevel, IdentityProvider, IdpId, IdpPolicy, Profile, Scope, ScopeSet, Secret,
    SecretDigest, Sector, ServiceProvider, SpId,
};

use crate::sealing::KeyRing;
use crate::StoreError;

fn corrupt(what: &str, why: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {why}"))
}

/// A service provider's row (`v: 1`).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct ServiceProviderV1 {
    v: u32,
    client_id: String,
    client_name: String,
    token_endpoint_auth_method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jwks: Option<String>,
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    scope: String,
    id_token_signed_response_alg: String,
    sector_identifier: String,
    #[serde(default)]
    idp_policy: IdpPolicy,
    default_acr: String,
    #[serde(default)]
    profile: Profile,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    public_agents_only: bool,
}

/// An identity provider's row (`v: 1`); the hub's secret there is sealed.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct IdentityProviderV1 {
    v: u32,
    id: String,
    display_name: String,
    issuer: url::Url,
    client_id: String,
    client_secret_sealed: String,
    acr: String,
    enabled: bool,
    scopes: Vec<String>,
    require_acr: bool,
    token_endpoint_auth_method: String,
    #[serde(default)]
    profile: Profile,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    domains: Vec<EmailDomain>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    default_for_agents: bool,
}

/// A habilitation's row (`v: 1`).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct HabilitationV1 {
    v: u32,
    #[serde(flatten)]
    habilitation: Habilitation,
}

/// A data provider's row (`v: 1`).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct DataProviderV1 {
    v: u32,
    id: String,
    name: String,
    scopes: Vec<DataScope>,
    client_secret_digest: String,
    signed_checktoken: bool,
    allowed: BTreeMap<SpId, Vec<String>>,
    /// Added with the catalogue's details (absent in the rows before: nothing said).
    #[serde(default, skip_serializing_if = "ProviderAbout::is_empty")]
    about: ProviderAbout,
}

fn level(acr: &str, what: &str) -> Result<EidasLevel, StoreError> {
    EidasLevel::from_acr(acr).ok_or_else(|| corrupt(what, format!("`{acr}` is not an eIDAS level")))
}

fn algorithm(name: &str) -> Result<IdTokenAlgorithm, StoreError> {
    match name {
        "ES256" => Ok(IdTokenAlgorithm::ES256),
        "RS256" => Ok(IdTokenAlgorithm::RS256),
        other => Err(corrupt("service provider", format!("unknown algorithm `{other}`"))),
    }
}

fn algorithm_name(alg: IdTokenAlgorithm) -> &'static str {
    match alg {
        IdTokenAlgorithm::ES256 => "ES256",
        IdTokenAlgorithm::RS256 => "RS256",
    }
}

fn digest(stored: Option<String>, what: &str) -> Result<SecretDigest, StoreError> {
    stored.and_then(SecretDigest::from_stored).ok_or_else(|| corrupt(what, "no secret digest"))
}

/// The row of `sp`.
pub fn service_provider_row(sp: &ServiceProvider) -> Result<String, StoreError> {
    let (client_secret_digest, jwks) = match &sp.authentication {
        ClientAuthentication::SecretBasic(digest) | ClientAuthentication::SecretPost(digest) => {
            (Some(digest.as_stored().to_owned()), None)
        }
        ClientAuthentication::PrivateKeyJwt { jwks } => (None, Some(jwks.clone())),
        ClientAuthentication::None => (None, None),
    };
    let row = ServiceProviderV1 {
        v: 1,
        client_id: sp.id.to_string(),
        client_name: sp.name.clone(),
        token_endpoint_auth_method: sp.authentication.method_name().to_owned(),
        client_secret_digest,
        jwks,
        redirect_uris: sp.redirect_uris.clone(),
        post_logout_redirect_uris: sp.post_logout_redirect_uris.clone(),
        scope: sp.scope_value(),
        id_token_signed_response_alg: algorithm_name(sp.id_token_algorithm).to_owned(),
        sector_identifier: sp.sector.as_str().to_owned(),
        idp_policy: sp.idp_policy.clone(),
        default_acr: sp.minimum_level.as_acr().to_owned(),
        profile: sp.profile,
        public_agents_only: sp.public_agents_only,
    };
    serde_json::to_string(&row).map_err(|e| corrupt("service provider", e))
}

/// The service provider of a row.
pub fn service_provider(text: &str) -> Result<ServiceProvider, StoreError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| corrupt("service provider", e))?;
    if value.get("v").is_none() {
        return legacy_service_provider(value);
    }
    let row: ServiceProviderV1 = serde_json::from_value(value).map_err(|e| corrupt("service provider", e))?;
    let what = "service provider";
    let authentication = match row.token_endpoint_auth_method.as_str() {
        "client_secret_basic" => ClientAuthentication::SecretBasic(digest(row.client_secret_digest, what)?),
        "client_secret_post" => ClientAuthentication::SecretPost(digest(row.client_secret_digest, what)?),
        "private_key_jwt" => {
            ClientAuthentication::PrivateKeyJwt { jwks: row.jwks.ok_or_else(|| corrupt(what, "no jwks"))? }
        }
        "none" => ClientAuthentication::None,
        other => return Err(corrupt(what, format!("unknown token_endpoint_auth_method `{other}`"))),
    };
    let mut scopes = Vec::new();
    let mut agent_claims = Vec::new();
    for name in row.scope.split_ascii_whitespace() {
        let unknown = || corrupt(what, format!("unknown scope `{name}`"));
        match (row.profile, name) {
            (_, "openid") => scopes.push(Scope::OpenId),
            (Profile::Citizen, _) => scopes.push(Scope::parse(name).ok_or_else(unknown)?),
            (Profile::Agent, _) => agent_claims.push(AgentClaim::of_scope(name).ok_or_else(unknown)?),
        }
    }
    Ok(ServiceProvider {
        id: SpId::new(row.client_id),
        name: row.client_name,
        authentication,
        redirect_uris: row.redirect_uris,
        post_logout_redirect_uris: row.post_logout_redirect_uris,
        scopes: ScopeSet::from_scopes(scopes),
        id_token_algorithm: algorithm(&row.id_token_signed_response_alg)?,
        sector: Sector::new(row.sector_identifier),
        idp_policy: row.idp_policy,
        minimum_level: level(&row.default_acr, what)?,
        profile: row.profile,
        agent_claims,
        public_agents_only: row.public_agents_only,
    })
}

/// A row of the first layout (the domain's JSON, the secret in clear): read with the secret
/// turned into its digest; the next write replaces it.
fn legacy_service_provider(mut value: serde_json::Value) -> Result<ServiceProvider, StoreError> {
    let id = value["id"].as_str().unwrap_or_default().to_owned();
    if let Some(credential) = value.pointer_mut("/authentication/credential") {
        if let Some(clear) = credential.as_str() {
            *credential = serde_json::Value::String(SecretDigest::of(&id, &Secret::new(clear)).as_stored().to_owned());
        }
    }
    serde_json::from_value(value).map_err(|e| corrupt("service provider (first layout)", e))
}

fn idp_secret_context(id: &IdpId) -> String {
    format!("identity_provider:{id}:client_secret")
}

/// The row of `idp`, its client secret sealed with `ring`.
pub fn identity_provider_row(idp: &IdentityProvider, ring: &KeyRing) -> Result<String, StoreError> {
    let row = IdentityProviderV1 {
        v: 1,
        id: idp.id.to_string(),
        display_name: idp.display_name.clone(),
        issuer: idp.issuer.clone(),
        client_id: idp.client_id.clone(),
        client_secret_sealed: ring.seal_text(&idp_secret_context(&idp.id), idp.client_secret.expose())?,
        acr: idp.level.as_acr().to_owned(),
        enabled: idp.enabled,
        scopes: idp.scopes.clone(),
        require_acr: idp.require_acr,
        token_endpoint_auth_method: match idp.token_auth {
            UpstreamClientAuth::SecretBasic => "client_secret_basic",
            UpstreamClientAuth::SecretPost => "client_secret_post",
        }
        .to_owned(),
        profile: idp.profile,
        domains: idp.agent_domains.clone(),
        default_for_agents: idp.agent_default,
    };
    serde_json::to_string(&row).map_err(|e| corrupt("identity provider", e))
}

/// The identity provider of a row, its client secret opened with `ring`.
pub fn identity_provider(text: &str, ring: &KeyRing) -> Result<IdentityProvider, StoreError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| corrupt("identity provider", e))?;
    if value.get("v").is_none() {
        return serde_json::from_value(value).map_err(|e| corrupt("identity provider (first layout)", e));
    }
    let row: IdentityProviderV1 = serde_json::from_value(value).map_err(|e| corrupt("identity provider", e))?;
    let id = IdpId::new(row.id);
    let client_secret = Secret::new(ring.open_text(&idp_secret_context(&id), &row.client_secret_sealed)?);
    let token_auth = match row.token_endpoint_auth_method.as_str() {
        "client_secret_basic" => UpstreamClientAuth::SecretBasic,
        "client_secret_post" => UpstreamClientAuth::SecretPost,
        other => return Err(corrupt("identity provider", format!("unknown method `{other}`"))),
    };
    Ok(IdentityProvider {
        level: level(&row.acr, "identity provider")?,
        id,
        display_name: row.display_name,
        issuer: row.issuer,
        client_id: row.client_id,
        client_secret,
        enabled: row.enabled,
        scopes: row.scopes,
        require_acr: row.require_acr,
        token_auth,
        profile: row.profile,
        agent_domains: row.domains,
        agent_default: row.default_for_agents,
    })
}

/// The row of `dp`.
pub fn data_provider_row(dp: &DataProvider) -> Result<String, StoreError> {
    let row = DataProviderV1 {
        v: 1,
        id: dp.id.to_string(),
        name: dp.name.clone(),
        scopes: dp.scopes.clone(),
        client_secret_digest: dp.secret.as_stored().to_owned(),
        signed_checktoken: dp.signed_checktoken,
        allowed: dp.allowed.clone(),
        about: (*dp.about).clone(),
    };
    serde_json::to_string(&row).map_err(|e| corrupt("data provider", e))
}

/// The data provider of a row.
pub fn data_provider(text: &str) -> Result<DataProvider, StoreError> {
    let mut value: serde_json::Value = serde_json::from_str(text).map_err(|e| corrupt("data provider", e))?;
    if value.get("v").is_none() {
        let id = value["id"].as_str().unwrap_or_default().to_owned();
        if let Some(clear) = value.get("secret").and_then(|s| s.as_str()).map(str::to_owned) {
            value["secret"] =
                serde_json::Value::String(SecretDigest::of(&id, &Secret::new(clear)).as_stored().to_owned());
        }
        return serde_json::from_value(value).map_err(|e| corrupt("data provider (first layout)", e));
    }
    let row: DataProviderV1 = serde_json::from_value(value).map_err(|e| corrupt("data provider", e))?;
    Ok(DataProvider {
        id: DpId::new(row.id),
        name: row.name,
        scopes: row.scopes,
        secret: digest(Some(row.client_secret_digest), "data provider")?,
        signed_checktoken: row.signed_checktoken,
        allowed: row.allowed,
        about: std::sync::Arc::new(row.about),
    })
}

/// The row of `habilitation`.
pub fn habilitation_row(habilitation: &Habilitation) -> Result<String, StoreError> {
    serde_json::to_string(&HabilitationV1 { v: 1, habilitation: habilitation.clone() })
        .map_err(|e| corrupt("habilitation", e))
}

/// The habilitation of a row.
pub fn habilitation(text: &str) -> Result<Habilitation, StoreError> {
    let row: HabilitationV1 = serde_json::from_str(text).map_err(|e| corrupt("habilitation", e))?;
    Ok(row.habilitation)
}

#[cfg(test)]
#[path = "records_tests.rs"]
mod tests;
