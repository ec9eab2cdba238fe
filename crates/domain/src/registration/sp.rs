//! The rules of a service provider's registration.

use url::Url;

use super::{check_display_name, check_secret_length, check_transport, refuse, RegistrationError, DASHBOARD_CLIENT_ID};
use crate::agent::AgentClaim;
use crate::eidas::EidasLevel;
use crate::ids::{IdpId, SpId};
use crate::pairwise::Sector;
use crate::profile::Profile;
use crate::providers::{ClientAuthentication, IdTokenAlgorithm, IdpPolicy, ServiceProvider};
use crate::scopes::{Scope, ScopeSet};
use crate::secret::{Secret, SecretDigest};

/// How a client authenticates at the token endpoint (`token_endpoint_auth_method`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuthMethod {
    /// HTTP Basic with the client secret.
    #[default]
    ClientSecretBasic,
    /// The client secret in the form body.
    ClientSecretPost,
    /// A JWT signed with a key of the client's JWK Set (RFC 7523).
    PrivateKeyJwt,
    /// A public client (PKCE required).
    None,
}

/// A service provider as it asks to be registered.
#[derive(Clone, Debug)]
pub struct ServiceProviderRegistration {
    /// `client_id`.
    pub client_id: String,
    /// `client_name`: shown to the person.
    pub client_name: String,
    /// `token_endpoint_auth_method`.
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// `client_secret`, for the secret methods (only its digest is kept).
    pub client_secret: Option<Secret>,
    /// `jwks`: the client's public keys, for `private_key_jwt`.
    pub jwks: Option<String>,
    /// `redirect_uris`.
    pub redirect_uris: Vec<String>,
    /// `post_logout_redirect_uris`.
    pub post_logout_redirect_uris: Vec<String>,
    /// The scopes it may ask for (`scope`).
    pub scopes: Vec<String>,
    /// `id_token_signed_response_alg` (RS256 when the client names none, as Core says).
    pub id_token_signed_response_alg: IdTokenAlgorithm,
    /// `sector_identifier` for the pairwise `sub` (default: its `client_id`).
    pub sector_identifier: Option<String>,
    /// Only these identity providers.
    pub allowed_idps: Option<Vec<String>>,
    /// All identity providers but these.
    pub denied_idps: Option<Vec<String>>,
    /// `default_acr`: the level it needs at least.
    pub minimum_eidas_level: Option<EidasLevel>,
    /// Its federation.
    pub profile: Profile,
    /// For an agent service: only agents of public organisations.
    pub public_agents_only: bool,
}

impl ServiceProviderRegistration {
    /// The service provider, if every rule holds; `known_idps` are the registered identity
    /// providers its policy may name.
    pub fn register(self, known_idps: &[IdpId]) -> Result<ServiceProvider, RegistrationError> {
        if self.client_id.is_empty() {
            return Err(refuse("client_id", "is empty", "est vide"));
        }
        // RFC 6749 appendix A.1 allows spaces too; a client id is typed and put in URLs.
        if !self.client_id.bytes().all(|b| b.is_ascii_graphic()) || self.client_id.len() > 255 {
            return Err(refuse(
                "client_id",
                "only visible ASCII characters, no spaces, at most 255",
                "uniquement des caractères ASCII visibles, sans espace, 255 au plus",
            ));
        }
        check_display_name("client_name", &self.client_name)?;
        if self.client_id == DASHBOARD_CLIENT_ID || self.client_id == crate::portal::PORTAL_CLIENT_ID {
            return Err(refuse(
                "client_id",
                format!("`{}` is one of the hub's own services", self.client_id),
                format!("`{}` désigne l'un des services propres au hub", self.client_id),
            ));
        }
        let sector = Sector::new(self.sector_identifier.clone().unwrap_or_else(|| self.client_id.clone()));
        // The `relais:` sectors are the hub's: the dashboard's `sub` is the person key.
        if sector.is_reserved() {
            return Err(refuse(
                "sector_identifier",
                "sectors starting with `relais:` are reserved",
                "les secteurs commençant par `relais:` sont réservés",
            ));
        }
        if let Some(secret) = &self.client_secret {
            check_secret_length("client_secret", secret)?;
        }
        let authentication = self.authentication()?;
        if self.redirect_uris.is_empty() {
            return Err(refuse("redirect_uris", "must list at least one URI", "doit contenir au moins une URI"));
        }
        for (field, uris) in
            [("redirect_uris", &self.redirect_uris), ("post_logout_redirect_uris", &self.post_logout_redirect_uris)]
        {
            for uri in uris {
                let parsed =
                    Url::parse(uri).map_err(|e| refuse(field, format!("`{uri}`: {e}"), format!("`{uri}` : {e}")))?;
                check_transport(field, &parsed, true)?;
                if parsed.fragment().is_some() {
                    return Err(refuse(
                        field,
                        format!("`{uri}` must not have a fragment"),
                        format!("`{uri}` ne doit pas comporter de fragment"),
                    ));
                }
            }
        }
        if !self.scopes.iter().any(|s| s == "openid") {
            return Err(refuse("scopes", "must include openid", "doit comprendre openid"));
        }
        if self.profile != Profile::Agent && self.public_agents_only {
            return Err(refuse(
                "public_agents_only",
                "only an agent service (profile = \"agent\") has agents",
                "seul un service destiné aux agents (profile = \"agent\") peut être réservé aux agents publics",
            ));
        }
        // A citizen service names identity scopes; an agent service, agent claims (one scope
        // each, ProConnect's names). Data scopes are not registered here: a data provider
        // allows a citizen service, a habilitation an agent's organisation.
        let mut scopes = vec![Scope::OpenId];
        let mut agent_claims = Vec::new();
        let audience_fr = match self.profile {
            Profile::Citizen => "aux usagers",
            Profile::Agent => "aux agents",
        };
        for name in self.scopes.iter().filter(|s| *s != "openid") {
            let unknown = || {
                refuse(
                    "scopes",
                    format!("unknown scope `{name}` for a {} service", self.profile.as_str()),
                    format!("scope `{name}` inconnu pour un service destiné {audience_fr}"),
                )
            };
            match self.profile {
                Profile::Citizen => scopes.push(Scope::parse(name).ok_or_else(unknown)?),
                Profile::Agent => agent_claims.push(AgentClaim::of_scope(name).ok_or_else(unknown)?),
            }
        }
        let known = |field: &'static str, list: Vec<String>| -> Result<Vec<IdpId>, RegistrationError> {
            list.into_iter()
                .map(|id| {
                    let id = IdpId::new(id);
                    if known_idps.contains(&id) {
                        Ok(id)
                    } else {
                        Err(refuse(
                            field,
                            format!("unknown identity provider `{id}`"),
                            format!("fournisseur d'identité `{id}` inconnu"),
                        ))
                    }
                })
                .collect()
        };
        let idp_policy = match (self.allowed_idps, self.denied_idps) {
            (Some(_), Some(_)) => {
                return Err(refuse(
                    "allowed_idps",
                    "give allowed_idps or denied_idps, not both",
                    "indiquez allowed_idps ou denied_idps, mais pas les deux",
                ))
            }
            (Some(list), None) => IdpPolicy::AllowOnly(known("allowed_idps", list)?),
            (None, Some(list)) => IdpPolicy::Deny(known("denied_idps", list)?),
            (None, None) => IdpPolicy::All,
        };
        Ok(ServiceProvider {
            sector,
            id: SpId::new(self.client_id),
            name: self.client_name,
            authentication,
            redirect_uris: self.redirect_uris,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            scopes: ScopeSet::from_scopes(scopes),
            id_token_algorithm: self.id_token_signed_response_alg,
            idp_policy,
            minimum_level: self.minimum_eidas_level.unwrap_or(EidasLevel::Low),
            profile: self.profile,
            agent_claims,
            public_agents_only: self.public_agents_only,
        })
    }

    fn authentication(&self) -> Result<ClientAuthentication, RegistrationError> {
        let digest = |secret: &Secret| SecretDigest::of(&self.client_id, secret);
        match (self.token_endpoint_auth_method, &self.client_secret) {
            (TokenEndpointAuthMethod::ClientSecretBasic, Some(s)) => Ok(ClientAuthentication::SecretBasic(digest(s))),
            (TokenEndpointAuthMethod::ClientSecretPost, Some(s)) => Ok(ClientAuthentication::SecretPost(digest(s))),
            (TokenEndpointAuthMethod::ClientSecretBasic | TokenEndpointAuthMethod::ClientSecretPost, None) => {
                Err(refuse(
                    "client_secret",
                    "is required by this token_endpoint_auth_method",
                    "est obligatoire avec ce mode d'authentification (token_endpoint_auth_method)",
                ))
            }
            (TokenEndpointAuthMethod::PrivateKeyJwt, _) => {
                let jwks = self.jwks.clone().ok_or_else(|| {
                    refuse("jwks", "private_key_jwt needs a JWK Set", "private_key_jwt nécessite un JWK Set")
                })?;
                let parsed: serde_json::Value = serde_json::from_str(&jwks)
                    .map_err(|e| refuse("jwks", format!("not JSON: {e}"), format!("n'est pas du JSON : {e}")))?;
                if parsed["keys"].as_array().is_none_or(|keys| keys.is_empty()) {
                    return Err(refuse(
                        "jwks",
                        "must be a JWK Set with at least one key",
                        "doit être un JWK Set contenant au moins une clé",
                    ));
                }
                Ok(ClientAuthentication::PrivateKeyJwt { jwks })
            }
            (TokenEndpointAuthMethod::None, None) => Ok(ClientAuthentication::None),
            (TokenEndpointAuthMethod::None, Some(_)) => Err(refuse(
                "client_secret",
                "a public client (none) has no secret",
                "un client public (none) n'a pas de secret",
            )),
        }
    }
}
