//! The agent federation's domain (ProConnect's vocabulary, `research/anchors.md` §2): an
//! agent's identity from an IdP's verified claims, the SIRET that names their organisation
//! (checked by its Luhn key), the routing of a sign-in to the IdPs of the agent's e-mail
//! domain, the kind of organisation a registry gives for a SIRET, and the habilitations that
//! let an organisation receive data. Pure rules; the profile seam, the registry and the
//! endpoints plug them in (issue 12).

mod claims;
mod organisation;
pub mod reference;
mod routing;
mod siret;
#[cfg(test)]
mod tests;

pub use claims::{agent_claims_of_request, AgentClaim, AgentScopeError};
pub use organisation::{covering, Habilitation, LegalBasis, OrganisationKind};
pub use routing::{may_assert, route, AgentIdpRoute, EmailDomain, Routing};
pub use siret::{is_siren, Siret};

use crate::ids::IdpId;
use crate::profile::{SubjectBasis, VerifiedClaims};

/// Why verified claims are not an agent identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentError {
    /// A mandatory claim is missing or empty.
    #[error("the mandatory claim {0} is missing")]
    MissingClaim(&'static str),
    /// The SIRET is not 14 digits with a valid key.
    #[error("the SIRET is not valid")]
    InvalidSiret,
    /// The SIREN is not 9 digits with a valid key, or not the SIRET's.
    #[error("the SIREN is not valid, or not the SIRET's")]
    InvalidSiren,
    /// The e-mail is not an address.
    #[error("the e-mail is not an address")]
    InvalidEmail,
}

impl AgentError {
    /// The refusal's kind, for logs and traces.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MissingClaim(_) => "agent_claim_missing",
            Self::InvalidSiret => "siret_invalid",
            Self::InvalidSiren => "siren_invalid",
            Self::InvalidEmail => "email_invalid",
        }
    }
}

/// An agent, as the hub holds them in their session (only there): ProConnect's claims.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AgentIdentity {
    /// The IdP that authenticated them.
    pub idp_id: IdpId,
    /// Their id at that IdP.
    pub uid: String,
    /// First names.
    pub given_name: String,
    /// Family name of use.
    pub usual_name: String,
    /// Professional e-mail.
    pub email: String,
    /// Their establishment.
    pub siret: Siret,
    /// Their organisation (the SIRET's first 9 digits when the IdP gives none).
    pub siren: String,
    /// "Ministère/Direction/Service d'affectation".
    pub organizational_unit: Option<String>,
    /// agent, prestataire, partenaire, stagiaire.
    pub belonging_population: Option<String>,
    /// Professional phone.
    pub phone_number: Option<String>,
    /// Their organisation as the registry describes it (set once it answered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<OrganisationFacts>,
}

/// What the organisation registry says of an agent's organisation.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrganisationFacts {
    /// Its name.
    pub label: String,
    /// What it is.
    pub kind: OrganisationKind,
}

impl AgentIdentity {
    /// The mandatory claims.
    pub const MANDATORY: [&'static str; 5] = ["given_name", "usual_name", "email", "uid", "siret"];

    /// The agent `idp` asserted in `claims`: complete with a valid SIRET (and SIREN, when
    /// given, the SIRET's), or refused.
    pub fn from_claims(idp: &IdpId, claims: &VerifiedClaims) -> Result<Self, AgentError> {
        let required = |name: &'static str| {
            claims
                .get(name)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .ok_or(AgentError::MissingClaim(name))
        };
        let optional = |name: &str| claims.get(name).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let (given_name, usual_name, email, uid) =
            (required("given_name")?, required("usual_name")?, required("email")?, required("uid")?);
        EmailDomain::of_email(&email)?;
        let siret = Siret::parse(&required("siret")?)?;
        let siren = match optional("siren") {
            Some(siren) if siren == siret.siren() => siren,
            Some(_) => return Err(AgentError::InvalidSiren),
            None => siret.siren().to_owned(),
        };
        Ok(Self {
            idp_id: idp.clone(),
            uid,
            given_name,
            usual_name,
            email,
            siret,
            siren,
            organizational_unit: optional("organizational_unit"),
            belonging_population: optional("belonging_population"),
            phone_number: optional("phone_number").or_else(|| optional("phone")),
            organisation: None,
        })
    }

    /// The domain of their e-mail.
    pub fn email_domain(&self) -> EmailDomain {
        EmailDomain::new(self.email.rsplit_once('@').map_or("", |(_, domain)| domain))
    }
}

impl SubjectBasis for AgentIdentity {
    /// The IdP and its id of the agent: the agent `sub` (one sector for every agent SP) is the
    /// same at every agent service, derived, never stored.
    fn subject_basis(&self) -> String {
        format!("agent\u{1f}{}\u{1f}{}", self.idp_id.as_str(), self.uid)
    }
}
