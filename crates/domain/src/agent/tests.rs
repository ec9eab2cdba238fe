#![allow(clippy::unwrap_used)]
use super::*;
use crate::clock::UnixTime;
use crate::ids::DpId;

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
        legal_basis: LegalBasis { reference: "CRPA L. 114-8".into(), url: "https://www.legifrance.gouv.fr/".into() },
        dp: DpId::new("caf"),
        scopes: vec!["quotient_familial".into()],
        expires_at: UnixTime(2_000),
        citizen_services: Vec::new(),
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
    assert_eq!(covering(&all, &siret, &caf, "quotient_familial", UnixTime(1)).map(|h| h.id.as_str()), Some("hab-1"));
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
        (OrganisationKind::Private, OrganisationKind::Private, OrganisationKind::Private, OrganisationKind::Private)
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

fn a_reference(service: &str, expires_at: u64) -> reference::PersonReference {
    let claims = [
        ("given_name", "Angela Claire Louise"),
        ("family_name", "Dubois"),
        ("birthdate", "1962-08-24"),
        ("gender", "female"),
        ("birthplace", "75107"),
        ("birthcountry", "99100"),
    ];
    let pivot = crate::PivotIdentity::from_claims(|n| claims.iter().find(|(k, _)| *k == n).map(|(_, v)| *v)).unwrap();
    reference::PersonReference {
        pivot,
        idp: IdpId::new("impots"),
        service: crate::SpId::new(service),
        expires_at: UnixTime(expires_at),
    }
}

#[test]
fn an_exchange_needs_a_live_reference_and_a_habilitation_instructing_its_service() {
    use crate::data::DataTransfer;
    use reference::{exchange_scopes, ExchangeRefusal};
    let agent = AgentIdentity::from_claims(&IdpId::new("ministere"), &claims(&agent_claims())).unwrap();
    let caf = DpId::new("caf");
    let qf = DataTransfer { dp: caf.clone(), scope: "quotient_familial".into() };
    let children = DataTransfer { dp: caf.clone(), scope: "enfants".into() };
    let habilitation = Habilitation {
        id: "hab-1".into(),
        organisation: "130025265".into(),
        procedure: "cantine".into(),
        legal_basis: LegalBasis { reference: "CRPA L. 114-8".into(), url: "https://www.legifrance.gouv.fr/".into() },
        dp: caf,
        scopes: vec!["quotient_familial".into()],
        expires_at: UnixTime(2_000),
        citizen_services: vec![crate::SpId::new("cantine")],
    };
    let habilitations = [habilitation];
    let actor = [qf.clone(), children];
    let live = a_reference("cantine", 1_500);
    let granted = exchange_scopes(&agent, &actor, Some("quotient_familial"), &live, &habilitations, UnixTime(1_000));
    assert_eq!(granted, Ok(vec![(qf.clone(), "hab-1".to_owned())]));
    assert_eq!(reference::by_scope(&granted.unwrap())["quotient_familial"], "hab-1");
    let at = |reference: &reference::PersonReference, scope: Option<&str>, now: u64| {
        exchange_scopes(&agent, &actor, scope, reference, &habilitations, UnixTime(now))
    };
    assert_eq!(at(&live, Some("quotient_familial"), 1_500), Err(ExchangeRefusal::ReferenceExpired));
    let elsewhere = a_reference("another-service", 1_500);
    assert!(
        matches!(at(&elsewhere, Some("quotient_familial"), 1_000), Err(ExchangeRefusal::NotHabilitated { .. })),
        "the habilitation does not instruct the files of that service"
    );
    assert!(matches!(at(&live, None, 1_000), Err(ExchangeRefusal::NotHabilitated { scope, .. }) if scope == "enfants"));
    assert_eq!(at(&live, Some("revenu_fiscal"), 1_000), Err(ExchangeRefusal::NotInActorToken("revenu_fiscal".into())));
    let late = a_reference("cantine", 3_000);
    assert!(matches!(at(&late, Some("quotient_familial"), 2_000), Err(ExchangeRefusal::NotHabilitated { .. })));
    assert_eq!(
        exchange_scopes(&agent, &[], None, &live, &habilitations, UnixTime(1)),
        Err(ExchangeRefusal::NoDataScope)
    );
}
