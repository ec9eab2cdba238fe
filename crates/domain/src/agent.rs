//! The agent federation's domain (ProConnect's vocabulary, `research/anchors.md` §2): an
//! agent's identity from an IdP's verified claims, the SIRET that names their organisation
//! (checked by its Luhn key), the routing of a sign-in to the IdPs of the agent's e-mail
//! domain, the kind of organisation a registry gives for a SIRET, and the habilitations that
//! let an organisation receive data. Pure rules; the profile seam, the registry and the
//! endpoints plug them in (issue 12).

use crate::clock::UnixTime;
use crate::ids::{DpId, IdpId};
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

/// The Luhn check of a digit string: the doubled digits from the right, summed.
fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(index, byte)| {
            let digit = u32::from(byte - b'0');
            if index % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// La Poste's SIREN: its establishments' SIRETs do not follow the Luhn key (INSEE's rule for
/// them: the digits sum to a multiple of 5).
const LA_POSTE_SIREN: &str = "356000000";

/// A SIRET: an establishment of an organisation, 14 digits, the first 9 its SIREN.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Siret(String);

impl Siret {
    /// `value`, spaces removed, if it is 14 digits with a valid key.
    pub fn parse(value: &str) -> Result<Self, AgentError> {
        let digits: String = value.chars().filter(|c| *c != ' ').collect();
        if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AgentError::InvalidSiret);
        }
        let valid = if digits.starts_with(LA_POSTE_SIREN) {
            digits.bytes().map(|b| u32::from(b - b'0')).sum::<u32>().is_multiple_of(5)
        } else {
            luhn(&digits)
        };
        if valid {
            Ok(Self(digits))
        } else {
            Err(AgentError::InvalidSiret)
        }
    }

    /// Its organisation's SIREN.
    pub fn siren(&self) -> &str {
        &self.0[..9]
    }

    /// The 14 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

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

/// What an organisation is, as the organisation registry tells from its SIRET.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    /// A State administration (ministries, their services, prefectures).
    StateAdministration,
    /// A local authority (communes, départements, régions and their groupings).
    LocalAuthority,
    /// Another public body (hospitals, public establishments).
    OtherPublic,
    /// A private organisation.
    Private,
}

impl OrganisationKind {
    /// The kind of an organisation of INSEE's legal category `code` (4 digits, "catégorie
    /// juridique"): 71xx the State's administrations, 72xx local authorities, 73xx and 74xx
    /// other public bodies under administrative law (public establishments, EPCIs, hospitals,
    /// public interest groupings), 4xxx public bodies under commercial law; every other code is
    /// private.
    pub fn from_legal_category(code: &str) -> Self {
        if code.len() != 4 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Self::Private;
        }
        match &code[..2] {
            "71" => Self::StateAdministration,
            "72" => Self::LocalAuthority,
            "73" | "74" => Self::OtherPublic,
            _ if code.starts_with('4') => Self::OtherPublic,
            _ => Self::Private,
        }
    }

    /// Its name in claims and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StateAdministration => "state_administration",
            Self::LocalAuthority => "local_authority",
            Self::OtherPublic => "other_public",
            Self::Private => "private",
        }
    }

    /// Whether its agents are public agents (an SP may accept only those).
    pub fn is_public(self) -> bool {
        !matches!(self, Self::Private)
    }

    /// ProConnect's role names for it (`agent_public`, `agent_public_etat`,
    /// `agent_public_territorial`).
    pub fn roles(self) -> &'static [&'static str] {
        match self {
            Self::StateAdministration => &["agent_public", "agent_public_etat"],
            Self::LocalAuthority => &["agent_public", "agent_public_territorial"],
            Self::OtherPublic => &["agent_public"],
            Self::Private => &[],
        }
    }
}

/// The legal basis of a habilitation: a text's reference and where to read it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LegalBasis {
    /// "Article L. 114-8 du code des relations entre le public et l'administration", say.
    pub reference: String,
    /// Its address (Légifrance).
    pub url: String,
}

/// A habilitation: this organisation, for this procedure, under this legal basis, may receive
/// these scopes from this data provider, until this date (DataPass's validated request).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Habilitation {
    /// Its id, quoted in the traces and to the data provider.
    pub id: String,
    /// The organisation's SIREN (every establishment of it) or one SIRET.
    pub organisation: String,
    /// The procedure it serves.
    pub procedure: String,
    /// Why the law allows it.
    pub legal_basis: LegalBasis,
    /// The data provider.
    pub dp: DpId,
    /// Its scopes covered.
    pub scopes: Vec<String>,
    /// Until when (exclusive).
    pub expires_at: UnixTime,
}

impl Habilitation {
    /// Whether it lets the agent of establishment `siret` receive `scope` of `dp` at `now`.
    pub fn covers(&self, siret: &Siret, dp: &DpId, scope: &str, now: UnixTime) -> bool {
        let organisation = self.organisation == siret.as_str() || self.organisation == siret.siren();
        organisation && &self.dp == dp && self.scopes.iter().any(|s| s == scope) && now.is_before(self.expires_at)
    }
}

/// The live habilitation of `habilitations` that covers `scope` of `dp` for `siret`, if any.
pub fn covering<'a>(
    habilitations: &'a [Habilitation],
    siret: &Siret,
    dp: &DpId,
    scope: &str,
    now: UnixTime,
) -> Option<&'a Habilitation> {
    habilitations.iter().find(|habilitation| habilitation.covers(siret, dp, scope, now))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    // The SIRET of the DINUM (13002526500013) and of a La Poste establishment.
    const DINUM: &str = "13002526500013";

    fn claims(pairs: &[(&str, &str)]) -> VerifiedClaims {
        VerifiedClaims::new(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    fn agent_claims() -> Vec<(&'static str, &'static str)> {
        vec![
            ("given_name", "Camille"),
            ("usual_name", "Martin"),
            ("email", "camille.martin@numerique.gouv.fr"),
            ("uid", "cm-42"),
            ("siret", DINUM),
            ("organizational_unit", "DINUM/ID"),
        ]
    }

    #[test]
    fn a_siret_is_fourteen_digits_with_its_luhn_key() {
        assert_eq!(Siret::parse(DINUM).unwrap().siren(), "130025265");
        assert_eq!(Siret::parse("130 025 265 00013").unwrap().as_str(), DINUM, "spaces as written on paper");
        assert_eq!(Siret::parse("13002526500014"), Err(AgentError::InvalidSiret), "one digit off");
        assert_eq!(Siret::parse("1300252650001"), Err(AgentError::InvalidSiret), "13 digits");
        assert_eq!(Siret::parse("1300252650001A"), Err(AgentError::InvalidSiret));
        // La Poste: the digits sum to a multiple of 5 instead.
        assert!(Siret::parse("35600000000047").is_ok());
        assert!(Siret::parse("35600000000048").is_err());
    }

    #[test]
    fn an_agent_has_the_five_mandatory_claims_and_a_valid_siret() {
        let idp = IdpId::new("ministere");
        let agent = AgentIdentity::from_claims(&idp, &claims(&agent_claims())).unwrap();
        assert_eq!((agent.siren.as_str(), agent.organizational_unit.as_deref()), ("130025265", Some("DINUM/ID")));
        assert_eq!(agent.email_domain(), EmailDomain::new("numerique.gouv.fr"));
        for missing in AgentIdentity::MANDATORY {
            let partial: Vec<_> = agent_claims().into_iter().filter(|(name, _)| *name != missing).collect();
            assert_eq!(AgentIdentity::from_claims(&idp, &claims(&partial)), Err(AgentError::MissingClaim(missing)));
        }
        let mut bad = agent_claims();
        bad[4] = ("siret", "13002526500014");
        assert_eq!(AgentIdentity::from_claims(&idp, &claims(&bad)).unwrap_err().kind(), "siret_invalid");
        let mut other_siren = agent_claims();
        other_siren.push(("siren", "356000000"));
        assert_eq!(AgentIdentity::from_claims(&idp, &claims(&other_siren)), Err(AgentError::InvalidSiren));
        let mut not_an_address = agent_claims();
        not_an_address[2] = ("email", "camille.martin");
        assert_eq!(AgentIdentity::from_claims(&idp, &claims(&not_an_address)), Err(AgentError::InvalidEmail));
    }

    #[test]
    fn the_agent_sub_is_the_same_at_every_agent_service_and_differs_by_idp_account() {
        let secret = crate::PairwiseSecret::new(crate::Secret::new("test-secret-0123456789abcdef0123456789"));
        let sector = crate::Sector::new("relais:agents");
        let agent = AgentIdentity::from_claims(&IdpId::new("ministere"), &claims(&agent_claims())).unwrap();
        let again = AgentIdentity { organizational_unit: None, ..agent.clone() };
        let elsewhere = AgentIdentity { idp_id: IdpId::new("mairie"), ..agent.clone() };
        let sub = |a: &AgentIdentity| crate::PairwiseSub::derive(&secret, &sector, a);
        assert_eq!(sub(&agent), sub(&again), "stable while the IdP account is");
        assert_ne!(sub(&agent), sub(&elsewhere));
    }

    fn routes() -> Vec<AgentIdpRoute> {
        vec![
            AgentIdpRoute {
                idp: IdpId::new("ministere"),
                domains: vec![EmailDomain::new("numerique.gouv.fr")],
                default: false,
            },
            AgentIdpRoute {
                idp: IdpId::new("mairie"),
                domains: vec![EmailDomain::new("demoville.fr"), EmailDomain::new("Numerique.Gouv.FR.")],
                default: false,
            },
            AgentIdpRoute { idp: IdpId::new("identite"), domains: vec![], default: true },
        ]
    }

    #[test]
    fn an_email_routes_to_its_domains_idps_else_the_default() {
        let domain = |email: &str| EmailDomain::of_email(email).unwrap();
        assert_eq!(route(&domain("agent@DemoVille.fr"), &routes()), Routing::One(IdpId::new("mairie")));
        assert_eq!(
            route(&domain("a@numerique.gouv.fr"), &routes()),
            Routing::Several(vec![IdpId::new("ministere"), IdpId::new("mairie")])
        );
        assert_eq!(route(&domain("a@ailleurs.fr"), &routes()), Routing::Default(IdpId::new("identite")));
        assert_eq!(route(&domain("a@ailleurs.fr"), &routes()[..2]), Routing::Nowhere);
        assert!(EmailDomain::of_email("a@b@c.fr").is_err() && EmailDomain::of_email("@c.fr").is_err());
        assert!(EmailDomain::of_email("a@localhost").is_err() && EmailDomain::of_email("a@exa mple.fr").is_err());
    }

    #[test]
    fn an_idp_asserts_only_the_agents_of_its_domains_the_default_any() {
        let routes = routes();
        assert!(may_assert(&routes[1], &EmailDomain::new("demoville.fr")));
        assert!(!may_assert(&routes[0], &EmailDomain::new("demoville.fr")), "another IdP's domain");
        assert!(may_assert(&routes[2], &EmailDomain::new("ailleurs.fr")));
    }

    #[test]
    fn a_habilitation_covers_its_organisation_provider_scopes_until_it_expires() {
        let habilitation = Habilitation {
            id: "hab-1".into(),
            organisation: "130025265".into(),
            procedure: "cantine".into(),
            legal_basis: LegalBasis {
                reference: "CRPA L. 114-8".into(),
                url: "https://www.legifrance.gouv.fr/".into(),
            },
            dp: DpId::new("caf"),
            scopes: vec!["quotient_familial".into()],
            expires_at: UnixTime(2_000),
        };
        let siret = Siret::parse(DINUM).unwrap();
        let caf = DpId::new("caf");
        assert!(habilitation.covers(&siret, &caf, "quotient_familial", UnixTime(1_999)));
        assert!(!habilitation.covers(&siret, &caf, "quotient_familial", UnixTime(2_000)), "expired");
        assert!(!habilitation.covers(&siret, &caf, "revenu_fiscal", UnixTime(1)), "another scope");
        assert!(!habilitation.covers(&siret, &DpId::new("impots"), "quotient_familial", UnixTime(1)), "another DP");
        let other = Siret::parse("35600000000047").unwrap();
        assert!(!habilitation.covers(&other, &caf, "quotient_familial", UnixTime(1)), "another organisation");
        let one_establishment = Habilitation { organisation: DINUM.into(), ..habilitation.clone() };
        assert!(one_establishment.covers(&siret, &caf, "quotient_familial", UnixTime(1)));
        let all = [habilitation];
        assert_eq!(
            covering(&all, &siret, &caf, "quotient_familial", UnixTime(1)).map(|h| h.id.as_str()),
            Some("hab-1")
        );
        assert!(covering(&all, &siret, &caf, "quotient_familial", UnixTime(3_000)).is_none());
        assert!(OrganisationKind::LocalAuthority.is_public() && !OrganisationKind::Private.is_public());
        let kind = OrganisationKind::from_legal_category;
        assert_eq!(
            (kind("7120"), kind("7210"), kind("7364"), kind("4110")),
            (
                OrganisationKind::StateAdministration,
                OrganisationKind::LocalAuthority,
                OrganisationKind::OtherPublic,
                OrganisationKind::OtherPublic
            )
        );
        assert_eq!(
            (kind("5710"), kind("9220"), kind("71"), kind("")),
            (
                OrganisationKind::Private,
                OrganisationKind::Private,
                OrganisationKind::Private,
                OrganisationKind::Private
            )
        );
        assert_eq!(OrganisationKind::StateAdministration.roles(), ["agent_public", "agent_public_etat"]);
    }

    #[test]
    fn each_agent_claim_has_its_scope_and_the_organisation_comes_from_the_registry() {
        let mut agent = AgentIdentity::from_claims(&IdpId::new("ministere"), &claims(&agent_claims())).unwrap();
        assert_eq!(AgentClaim::IdpId.value_of(&agent).as_deref(), Some("ministere"));
        assert_eq!(AgentClaim::Siren.value_of(&agent).as_deref(), Some("130025265"));
        assert_eq!(AgentClaim::OrganizationLabel.value_of(&agent), None, "the registry has not answered");
        agent.organisation = Some(OrganisationFacts {
            label: "Direction interministérielle du numérique".into(),
            kind: OrganisationKind::StateAdministration,
        });
        assert_eq!(AgentClaim::OrganizationKind.value_of(&agent).as_deref(), Some("state_administration"));
        for claim in AgentClaim::ALL {
            assert_eq!(AgentClaim::of_scope(claim.name()), Some(claim));
        }
        assert_eq!(AgentClaim::of_scope("family_name"), None, "a citizen claim is not an agent's");
    }

    #[test]
    fn an_agent_services_scope_needs_openid_and_its_registration() {
        let registered = [AgentClaim::GivenName, AgentClaim::UsualName, AgentClaim::Siret];
        let claims = agent_claims_of_request("openid siret given_name identite_pivot", &registered).unwrap();
        assert_eq!(claims.into_iter().collect::<Vec<_>>(), [AgentClaim::GivenName, AgentClaim::Siret]);
        assert_eq!(agent_claims_of_request("siret", &registered), Err(AgentScopeError::MissingOpenId));
        assert_eq!(
            agent_claims_of_request("openid email", &registered),
            Err(AgentScopeError::NotRegistered("email".into()))
        );
    }
}
