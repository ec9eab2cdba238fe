//! The claims an agent service may receive, one scope each.

use super::AgentIdentity;

/// A claim of an agent released to an agent service, by ProConnect's names; each has a scope
/// of the same name (ProConnect's "one scope per claim").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AgentClaim {
    /// `given_name`
    GivenName,
    /// `usual_name`
    UsualName,
    /// `email`
    Email,
    /// `uid`: the agent's id at their IdP.
    Uid,
    /// `siret`
    Siret,
    /// `siren`
    Siren,
    /// `organizational_unit`
    OrganizationalUnit,
    /// `belonging_population`
    BelongingPopulation,
    /// `phone_number`
    PhoneNumber,
    /// `idp_id`: the IdP that authenticated them (agents' accountability needs it; the citizen
    /// profile never tells a service).
    IdpId,
    /// `organization_label`: the organisation's name, from the registry.
    OrganizationLabel,
    /// `organization_kind`: `state_administration`, `local_authority`, `other_public` or
    /// `private`, from the registry.
    OrganizationKind,
}

impl AgentClaim {
    /// Every claim, in the order discovery lists them.
    pub const ALL: [AgentClaim; 12] = [
        Self::GivenName,
        Self::UsualName,
        Self::Email,
        Self::Uid,
        Self::Siret,
        Self::Siren,
        Self::OrganizationalUnit,
        Self::BelongingPopulation,
        Self::PhoneNumber,
        Self::IdpId,
        Self::OrganizationLabel,
        Self::OrganizationKind,
    ];

    /// Its name, and its scope's.
    pub fn name(self) -> &'static str {
        match self {
            Self::GivenName => "given_name",
            Self::UsualName => "usual_name",
            Self::Email => "email",
            Self::Uid => "uid",
            Self::Siret => "siret",
            Self::Siren => "siren",
            Self::OrganizationalUnit => "organizational_unit",
            Self::BelongingPopulation => "belonging_population",
            Self::PhoneNumber => "phone_number",
            Self::IdpId => "idp_id",
            Self::OrganizationLabel => "organization_label",
            Self::OrganizationKind => "organization_kind",
        }
    }

    /// The claim of scope `name`; `None` for another scope.
    pub fn of_scope(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|claim| claim.name() == name)
    }

    /// Its value for `agent`; `None` when they have none.
    pub fn value_of(self, agent: &AgentIdentity) -> Option<String> {
        let organisation = agent.organisation.as_ref();
        match self {
            Self::GivenName => Some(agent.given_name.clone()),
            Self::UsualName => Some(agent.usual_name.clone()),
            Self::Email => Some(agent.email.clone()),
            Self::Uid => Some(agent.uid.clone()),
            Self::Siret => Some(agent.siret.as_str().to_owned()),
            Self::Siren => Some(agent.siren.clone()),
            Self::OrganizationalUnit => agent.organizational_unit.clone(),
            Self::BelongingPopulation => agent.belonging_population.clone(),
            Self::PhoneNumber => agent.phone_number.clone(),
            Self::IdpId => Some(agent.idp_id.as_str().to_owned()),
            Self::OrganizationLabel => organisation.map(|o| o.label.clone()),
            Self::OrganizationKind => organisation.map(|o| o.kind.as_str().to_owned()),
        }
    }
}

impl serde::Serialize for AgentClaim {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for AgentClaim {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::of_scope(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown agent claim `{name}`")))
    }
}

/// The claims of a requested agent `scope` value for a service registered for `registered`:
/// unknown scopes ignored (Core 5.4), `openid` required, a known scope not registered refused
/// (its name is the error).
pub fn agent_claims_of_request(
    requested: &str,
    registered: &[AgentClaim],
) -> Result<std::collections::BTreeSet<AgentClaim>, AgentScopeError> {
    let mut claims = std::collections::BTreeSet::new();
    let mut openid = false;
    for name in requested.split_ascii_whitespace() {
        if name == "openid" {
            openid = true;
        } else if let Some(claim) = AgentClaim::of_scope(name) {
            if !registered.contains(&claim) {
                return Err(AgentScopeError::NotRegistered(name.to_owned()));
            }
            claims.insert(claim);
        }
    }
    if openid {
        Ok(claims)
    } else {
        Err(AgentScopeError::MissingOpenId)
    }
}

/// Why an agent service's `scope` is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AgentScopeError {
    /// No `openid`.
    #[error("openid is required")]
    MissingOpenId,
    /// A claim's scope the service is not registered for.
    #[error("the service is not registered for the scope {0}")]
    NotRegistered(String),
}
