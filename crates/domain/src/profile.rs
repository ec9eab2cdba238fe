//! Identity profiles: which federation a sign-in belongs to, what an identity of that
//! federation is, and what its subject identifiers are derived from. An identity provider and
//! a service provider each name their profile; the upstream client hands over the claims it
//! verified, and the profile normalises them ([`Profile::identity`]) into a profile-tagged
//! [`Identity`]. A session holds a [`Principal`]: the person signed in (the subject) and, for a
//! mandate, the one acting for them (the actor). Citizens and public agents are the profiles;
//! each adds a variant, not an `if`.

use std::collections::BTreeMap;

use crate::agent::{AgentError, AgentIdentity};
use crate::ids::IdpId;
use crate::pivot::{PivotError, PivotIdentity};
use crate::scopes::Claim;

/// A federation of the hub.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// People signing in to public services (FranceConnect's federation): the pivot identity.
    #[default]
    Citizen,
    /// Public servants signing in to their tools (ProConnect's federation): the agent identity,
    /// served under the hub's `/agents` issuer.
    Agent,
}

impl Profile {
    /// The profile's name in configuration and registration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Citizen => "citizen",
            Self::Agent => "agent",
        }
    }

    /// Normalises the verified claims of identity provider `idp` into an identity of this
    /// profile: complete, or refused (never a half identity).
    pub fn identity(self, idp: &IdpId, claims: &VerifiedClaims) -> Result<Identity, ProfileError> {
        match self {
            Self::Citizen => Ok(Identity::Citizen(PivotIdentity::from_claims(|name| claims.get(name))?)),
            Self::Agent => Ok(Identity::Agent(Box::new(AgentIdentity::from_claims(idp, claims)?))),
        }
    }
}

/// Why verified claims are not an identity of the profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// Not a complete pivot identity.
    #[error(transparent)]
    Pivot(#[from] PivotError),
    /// Not a complete agent identity.
    #[error(transparent)]
    Agent(#[from] AgentError),
}

impl ProfileError {
    /// The refusal's kind, for logs and traces.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Pivot(PivotError::MissingClaim(_)) => "pivot_claim_missing",
            Self::Pivot(PivotError::InvalidClaim(_)) => "pivot_claim_invalid",
            Self::Agent(error) => error.kind(),
        }
    }
}

/// The claims an identity provider asserted, verified by the upstream client (the ID token's
/// signature, issuer, audience, nonce and expiry; userinfo for the same `sub`), by name, as
/// text. Not yet an identity. `Debug` does not print them.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct VerifiedClaims(BTreeMap<String, String>);

impl VerifiedClaims {
    /// Claims by name.
    pub fn new(claims: BTreeMap<String, String>) -> Self {
        Self(claims)
    }

    /// One claim.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

impl std::fmt::Debug for VerifiedClaims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// What the pairwise subject identifiers of an identity are derived from: a canonical text,
/// the same however an identity provider wrote it, that never names the identity provider.
pub trait SubjectBasis {
    /// The canonical text.
    fn subject_basis(&self) -> String;
}

impl SubjectBasis for PivotIdentity {
    fn subject_basis(&self) -> String {
        self.canonical_form()
    }
}

/// An identity of one profile, as a session holds it (only there, for its lifetime).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "profile", content = "identity", rename_all = "snake_case")]
pub enum Identity {
    /// A citizen: the pivot identity.
    Citizen(PivotIdentity),
    /// A public servant: ProConnect's claims.
    Agent(Box<AgentIdentity>),
}

impl Identity {
    /// Its profile.
    pub fn profile(&self) -> Profile {
        match self {
            Self::Citizen(_) => Profile::Citizen,
            Self::Agent(_) => Profile::Agent,
        }
    }

    /// The pivot identity, for a citizen.
    pub fn pivot(&self) -> Option<&PivotIdentity> {
        match self {
            Self::Citizen(pivot) => Some(pivot),
            Self::Agent(_) => None,
        }
    }

    /// The agent identity, for an agent.
    pub fn agent(&self) -> Option<&AgentIdentity> {
        match self {
            Self::Citizen(_) => None,
            Self::Agent(agent) => Some(agent),
        }
    }

    /// The agent identity, for an agent, to complete it (its organisation).
    pub fn agent_mut(&mut self) -> Option<&mut AgentIdentity> {
        match self {
            Self::Citizen(_) => None,
            Self::Agent(agent) => Some(agent),
        }
    }

    /// The value of the citizen `claim` released to a service provider; `None` when the
    /// identity has none.
    pub fn claim(&self, claim: Claim) -> Option<String> {
        match self {
            Self::Citizen(pivot) => claim.value_of(pivot),
            Self::Agent(_) => None,
        }
    }
}

impl SubjectBasis for Identity {
    fn subject_basis(&self) -> String {
        match self {
            Self::Citizen(pivot) => pivot.subject_basis(),
            Self::Agent(agent) => agent.subject_basis(),
        }
    }
}

/// Who a session is: the subject, whom services see, and an actor when someone acts for them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Principal {
    /// The person signed in, or represented.
    pub subject: Identity,
    /// The one acting for the subject under a mandate (none today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<Identity>,
}

impl Principal {
    /// A person acting for themselves.
    pub fn person(subject: Identity) -> Self {
        Self { subject, actor: None }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn claims(pairs: &[(&str, &str)]) -> VerifiedClaims {
        VerifiedClaims::new(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    const ANGELA: [(&str, &str); 6] = [
        ("given_name", "Angela Claire Louise"),
        ("family_name", "DUBOIS"),
        ("birthdate", "1962-08-24"),
        ("gender", "female"),
        ("birthplace", "75107"),
        ("birthcountry", "99100"),
    ];

    #[test]
    fn the_citizen_profile_makes_a_pivot_identity_whose_basis_is_its_canonical_form() {
        let identity = Profile::Citizen.identity(&IdpId::new("idp"), &claims(&ANGELA)).unwrap();
        assert_eq!(identity.profile(), Profile::Citizen);
        let pivot = identity.pivot().unwrap();
        assert_eq!(identity.subject_basis(), pivot.canonical_form());
        assert_eq!(identity.claim(Claim::FamilyName).as_deref(), Some("DUBOIS"));
        assert_eq!(identity.claim(Claim::Email), None);
    }

    #[test]
    fn an_incomplete_answer_is_refused_with_its_kind() {
        let error = Profile::Citizen.identity(&IdpId::new("idp"), &claims(&ANGELA[1..])).unwrap_err();
        assert_eq!(error.kind(), "pivot_claim_missing");
    }

    #[test]
    fn verified_claims_do_not_print_their_values() {
        assert_eq!(format!("{:?}", claims(&ANGELA[..2])), r#"{"family_name", "given_name"}"#);
    }

    #[test]
    fn a_principal_without_actor_is_stored_without_it() {
        let principal = Principal::person(Profile::Citizen.identity(&IdpId::new("idp"), &claims(&ANGELA)).unwrap());
        let json = serde_json::to_value(&principal).unwrap();
        assert_eq!(json["subject"]["profile"], "citizen");
        assert!(json.get("actor").is_none());
    }
}
