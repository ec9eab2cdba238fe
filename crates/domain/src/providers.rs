//! The registered actors: service providers and identity providers, and which identity
//! providers a request may be offered.

use url::Url;

use crate::agent::{AgentClaim, AgentIdpRoute, EmailDomain};
use crate::eidas::EidasLevel;
use crate::ids::{IdpId, SpId};
use crate::pairwise::Sector;
use crate::profile::Profile;
use crate::scopes::ScopeSet;
use crate::secret::{Secret, SecretDigest};

/// How a service provider authenticates at the token endpoint.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "method", content = "credential", rename_all = "snake_case")]
pub enum ClientAuthentication {
    /// `client_secret_basic`: HTTP Basic with the client secret (only its digest is kept).
    SecretBasic(SecretDigest),
    /// `client_secret_post`: the secret in the form body (only its digest is kept).
    SecretPost(SecretDigest),
    /// `private_key_jwt` (RFC 7523): a JWT signed with a key of this JWK Set (JSON text).
    PrivateKeyJwt {
        /// The client's public keys, a JWK Set as JSON.
        jwks: String,
    },
    /// `none`: a public client (a native or browser application); PKCE is then required.
    None,
}

impl ClientAuthentication {
    /// The method's name in discovery and registration metadata.
    pub fn method_name(&self) -> &'static str {
        match self {
            Self::SecretBasic(_) => "client_secret_basic",
            Self::SecretPost(_) => "client_secret_post",
            Self::PrivateKeyJwt { .. } => "private_key_jwt",
            Self::None => "none",
        }
    }

    /// Whether the client is public (cannot keep a secret).
    pub fn is_public(&self) -> bool {
        matches!(self, Self::None)
    }
}

/// The algorithm the hub signs a service provider's ID tokens with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum IdTokenAlgorithm {
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
}

/// Which identity providers a service provider accepts.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "policy", content = "idps", rename_all = "snake_case")]
pub enum IdpPolicy {
    /// Every enabled IdP.
    #[default]
    All,
    /// Only these.
    AllowOnly(Vec<IdpId>),
    /// All but these.
    Deny(Vec<IdpId>),
}

impl IdpPolicy {
    /// Whether the policy lets `idp` sign people in to this SP.
    pub fn allows(&self, idp: &IdpId) -> bool {
        match self {
            Self::All => true,
            Self::AllowOnly(list) => list.contains(idp),
            Self::Deny(list) => !list.contains(idp),
        }
    }
}

/// A service provider as registered at the hub.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ServiceProvider {
    /// The `client_id`.
    pub id: SpId,
    /// The name shown to the person.
    pub name: String,
    /// How it authenticates at the token endpoint.
    pub authentication: ClientAuthentication,
    /// Registered redirect URIs, compared exactly.
    pub redirect_uris: Vec<String>,
    /// Registered post-logout redirect URIs, compared exactly.
    pub post_logout_redirect_uris: Vec<String>,
    /// The scopes it may ask for.
    pub scopes: ScopeSet,
    /// The algorithm of its ID tokens.
    pub id_token_algorithm: IdTokenAlgorithm,
    /// Its sector for the pairwise `sub`.
    pub sector: Sector,
    /// Which IdPs it accepts.
    pub idp_policy: IdpPolicy,
    /// The level it needs at least, whatever its request says.
    pub minimum_level: EidasLevel,
    /// The federation it belongs to: only identity providers of the same profile sign people
    /// in to it.
    #[serde(default)]
    pub profile: Profile,
    /// For an agent service: the agent claims it may ask for, one scope each.
    #[serde(default)]
    pub agent_claims: Vec<AgentClaim>,
    /// For an agent service: only agents of public organisations (the registry's kind).
    #[serde(default)]
    pub public_agents_only: bool,
}

impl ServiceProvider {
    /// The sector of the `sub` it receives: its own for a citizen service (pairwise), the one
    /// agent sector for an agent service (the same `sub` at every agent service).
    pub fn subject_sector(&self) -> Sector {
        match self.profile {
            Profile::Citizen => self.sector.clone(),
            Profile::Agent => Sector::of_agents(),
        }
    }

    /// Whether `uri` is one of its redirect URIs, exactly (RFC 9700, section 2.1).
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|registered| registered == uri)
    }

    /// Its registration's `scope`: the identity scopes, then an agent service's claims.
    pub fn scope_value(&self) -> String {
        std::iter::once(self.scopes.to_request_value())
            .chain(self.agent_claims.iter().map(|claim| claim.name().to_owned()))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Whether `uri` is one of its post-logout redirect URIs, exactly.
    pub fn has_post_logout_redirect_uri(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris.iter().any(|registered| registered == uri)
    }
}

/// An upstream identity provider as registered at the hub.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct IdentityProvider {
    /// Its id in the registry.
    pub id: IdpId,
    /// The name on the choice page.
    pub display_name: String,
    /// Its issuer; its configuration is discovered from there.
    pub issuer: Url,
    /// The hub's client id at this IdP.
    pub client_id: String,
    /// The hub's client secret at this IdP.
    pub client_secret: Secret,
    /// The highest level this IdP is trusted for.
    pub level: EidasLevel,
    /// Whether it is offered at all.
    pub enabled: bool,
    /// The scopes the hub asks it for (enough for the pivot identity), never the SP's.
    pub scopes: Vec<String>,
    /// Whether its ID tokens must carry an eIDAS `acr`; when not, a token without one (a
    /// generic provider) is taken at the configured level.
    pub require_acr: bool,
    /// How the hub authenticates at its token endpoint.
    pub token_auth: UpstreamClientAuth,
    /// The federation it belongs to, which normalises its answers.
    #[serde(default)]
    pub profile: Profile,
    /// For an agent IdP: the e-mail domains it serves (the routing table).
    #[serde(default)]
    pub agent_domains: Vec<EmailDomain>,
    /// For an agent IdP: whether it takes the e-mails no other IdP claims.
    #[serde(default)]
    pub agent_default: bool,
}

impl IdentityProvider {
    /// Its place in the agents' e-mail routing.
    pub fn agent_route(&self) -> AgentIdpRoute {
        AgentIdpRoute { idp: self.id.clone(), domains: self.agent_domains.clone(), default: self.agent_default }
    }
}

/// How the hub authenticates at an IdP's token endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum UpstreamClientAuth {
    /// `client_secret_basic`
    #[default]
    #[serde(rename = "client_secret_basic", alias = "secret_basic")]
    SecretBasic,
    /// `client_secret_post`
    #[serde(rename = "client_secret_post", alias = "secret_post")]
    SecretPost,
}

impl UpstreamClientAuth {
    /// Its registration name (RFC 7591).
    pub fn name(self) -> &'static str {
        match self {
            Self::SecretBasic => "client_secret_basic",
            Self::SecretPost => "client_secret_post",
        }
    }
}

/// The identity providers a request may use, in registry order: of the SP's profile, enabled,
/// allowed by the SP, and reaching `required` level.
pub fn eligible_idps<'a>(
    idps: &'a [IdentityProvider],
    sp: &ServiceProvider,
    required: EidasLevel,
) -> Vec<&'a IdentityProvider> {
    idps.iter()
        .filter(|idp| {
            idp.profile == sp.profile && idp.enabled && idp.level >= required && sp.idp_policy.allows(&idp.id)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scopes::Scope;

    fn idp(id: &str, level: EidasLevel, enabled: bool) -> IdentityProvider {
        IdentityProvider {
            id: IdpId::new(id),
            display_name: id.into(),
            issuer: Url::parse("https://idp.example").unwrap(),
            client_id: "hub".into(),
            client_secret: Secret::new("x"),
            level,
            enabled,
            scopes: vec!["openid".into()],
            require_acr: true,
            token_auth: UpstreamClientAuth::SecretBasic,
            profile: Profile::Citizen,
            agent_domains: Vec::new(),
            agent_default: false,
        }
    }

    fn sp(policy: IdpPolicy) -> ServiceProvider {
        ServiceProvider {
            id: SpId::new("sp"),
            name: "SP".into(),
            authentication: ClientAuthentication::None,
            redirect_uris: vec!["https://sp.example/cb".into()],
            post_logout_redirect_uris: vec![],
            scopes: ScopeSet::from_scopes([Scope::OpenId]),
            id_token_algorithm: IdTokenAlgorithm::ES256,
            sector: Sector::new("sp"),
            idp_policy: policy,
            minimum_level: EidasLevel::Low,
            profile: Profile::Citizen,
            agent_claims: Vec::new(),
            public_agents_only: false,
        }
    }

    #[test]
    fn eligibility_follows_level_enabled_and_policy() {
        let idps = [
            idp("low", EidasLevel::Low, true),
            idp("high", EidasLevel::High, true),
            idp("off", EidasLevel::High, false),
        ];
        let ids = |list: Vec<&IdentityProvider>| list.iter().map(|i| i.id.as_str().to_owned()).collect::<Vec<_>>();
        assert_eq!(ids(eligible_idps(&idps, &sp(IdpPolicy::All), EidasLevel::Low)), ["low", "high"]);
        assert_eq!(ids(eligible_idps(&idps, &sp(IdpPolicy::All), EidasLevel::High)), ["high"]);
        assert_eq!(ids(eligible_idps(&idps, &sp(IdpPolicy::Deny(vec![IdpId::new("high")])), EidasLevel::Low)), ["low"]);
        assert_eq!(
            ids(eligible_idps(&idps, &sp(IdpPolicy::AllowOnly(vec![IdpId::new("off")])), EidasLevel::Low)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn redirect_uris_match_exactly() {
        let sp = sp(IdpPolicy::All);
        assert!(sp.has_redirect_uri("https://sp.example/cb"));
        assert!(!sp.has_redirect_uri("https://sp.example/cb/"));
        assert!(!sp.has_redirect_uri("https://sp.example/cb?x=1"));
        assert!(!sp.has_redirect_uri("HTTPS://sp.example/cb"));
    }
}
