//! Which IdPs an agent's e-mail sends them to, and which agents an IdP may assert.

use super::AgentError;
use crate::ids::IdpId;

/// An e-mail address's domain, lower-cased: what routes an agent to their IdP.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct EmailDomain(String);

impl EmailDomain {
    /// The domain of `email` (`local@domain`, one `@`, a dotted domain).
    pub fn of_email(email: &str) -> Result<Self, AgentError> {
        let (local, domain) = email.trim().rsplit_once('@').ok_or(AgentError::InvalidEmail)?;
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        let well_formed = !local.is_empty()
            && !local.contains('@')
            && domain.contains('.')
            && domain
                .split('.')
                .all(|label| !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        if well_formed {
            Ok(Self(domain))
        } else {
            Err(AgentError::InvalidEmail)
        }
    }

    /// A registered domain (as configured).
    pub fn new(domain: &str) -> Self {
        Self(domain.trim().trim_end_matches('.').to_ascii_lowercase())
    }

    /// The domain.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An agent IdP's place in the e-mail routing table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentIdpRoute {
    /// The IdP.
    pub idp: IdpId,
    /// The domains it serves (claimed and proved by its operator).
    pub domains: Vec<EmailDomain>,
    /// Whether it takes the e-mails no other IdP claims (and may return any domain).
    pub default: bool,
}

/// Where an e-mail sends an agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Routing {
    /// The one IdP of the domain.
    One(IdpId),
    /// Several IdPs claim the domain: the agent chooses.
    Several(Vec<IdpId>),
    /// No IdP claims it: the default one.
    Default(IdpId),
    /// No IdP claims it and there is no default.
    Nowhere,
}

/// The IdPs an agent with `email`'s domain is sent to, from `routes` in registry order.
pub fn route(domain: &EmailDomain, routes: &[AgentIdpRoute]) -> Routing {
    let serving: Vec<IdpId> =
        routes.iter().filter(|route| route.domains.contains(domain)).map(|route| route.idp.clone()).collect();
    match serving.len() {
        0 => routes
            .iter()
            .find(|route| route.default)
            .map_or(Routing::Nowhere, |route| Routing::Default(route.idp.clone())),
        1 => Routing::One(serving[0].clone()),
        _ => Routing::Several(serving),
    }
}

/// Whether `route`'s IdP may assert an agent of `domain` (checked at the callback: an IdP
/// cannot sign in the agents of another's domain; the default IdP may sign in any).
pub fn may_assert(route: &AgentIdpRoute, domain: &EmailDomain) -> bool {
    route.default || route.domains.contains(domain)
}
