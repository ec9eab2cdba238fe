//! The rules of an identity provider's registration.

use url::Url;

use super::{check_display_name, check_transport, check_url_safe_id, refuse, RegistrationError};
use crate::agent::EmailDomain;
use crate::eidas::EidasLevel;
use crate::ids::IdpId;
use crate::profile::Profile;
use crate::providers::{IdentityProvider, UpstreamClientAuth};
use crate::secret::Secret;

/// An identity provider as the operator registers it.
#[derive(Clone, Debug)]
pub struct IdentityProviderRegistration {
    /// Its id in the registry (part of its callback URL).
    pub id: String,
    /// Its name on the choice page.
    pub display_name: String,
    /// Its issuer (discovery).
    pub issuer: Url,
    /// The hub's `client_id` there.
    pub client_id: String,
    /// The hub's `client_secret` there.
    pub client_secret: Option<Secret>,
    /// The highest level it is trusted for.
    pub eidas_level: EidasLevel,
    /// Whether it is offered.
    pub enabled: bool,
    /// The scopes the hub asks it for.
    pub scopes: Vec<String>,
    /// Whether its ID tokens must carry an eIDAS `acr`.
    pub require_acr: bool,
    /// How the hub authenticates at its token endpoint.
    pub token_endpoint_auth_method: UpstreamClientAuth,
    /// Its federation.
    pub profile: Profile,
    /// For an agent IdP: the e-mail domains it serves, each proved by its operator.
    pub domains: Vec<String>,
    /// For an agent IdP: whether it takes the e-mails no other IdP claims.
    pub default_for_agents: bool,
}

impl IdentityProviderRegistration {
    /// The identity provider, if every rule holds.
    pub fn register(self) -> Result<IdentityProvider, RegistrationError> {
        check_url_safe_id("id", &self.id)?;
        check_display_name("display_name", &self.display_name)?;
        check_transport("issuer", &self.issuer, false)?;
        let client_secret = self
            .client_secret
            .filter(|s| !s.is_empty())
            .ok_or_else(|| refuse("client_secret", "is required", "est obligatoire"))?;
        if !self.scopes.iter().any(|s| s == "openid") {
            return Err(refuse("scopes", "must include openid", "doit comprendre openid"));
        }
        if self.profile != Profile::Agent && (!self.domains.is_empty() || self.default_for_agents) {
            return Err(refuse(
                "domains",
                "only an agent identity provider (profile = \"agent\") routes e-mails",
                "seul un fournisseur d'identité des agents (profile = \"agent\") est choisi d'après l'adresse électronique",
            ));
        }
        let mut agent_domains = Vec::new();
        for domain in &self.domains {
            let parsed = EmailDomain::of_email(&format!("x@{domain}")).map_err(|_| {
                refuse(
                    "domains",
                    format!("`{domain}` is not a domain name"),
                    format!("`{domain}` n'est pas un nom de domaine"),
                )
            })?;
            if !agent_domains.contains(&parsed) {
                agent_domains.push(parsed);
            }
        }
        Ok(IdentityProvider {
            id: IdpId::new(self.id),
            display_name: self.display_name,
            issuer: self.issuer,
            client_id: self.client_id,
            client_secret,
            level: self.eidas_level,
            enabled: self.enabled,
            scopes: self.scopes,
            require_acr: self.require_acr,
            token_auth: self.token_endpoint_auth_method,
            profile: self.profile,
            agent_domains,
            agent_default: self.default_for_agents,
        })
    }
}
