#![allow(clippy::unwrap_used)]
use std::collections::BTreeMap;

use super::*;
use crate::eidas::EidasLevel;
use crate::ids::{IdpId, SpId};
use crate::profile::Profile;
use crate::providers::{ClientAuthentication, IdTokenAlgorithm, IdpPolicy, UpstreamClientAuth};
use crate::secret::Secret;

const SECRET: &str = "a-generated-secret-of-32-characters!";

fn sp() -> ServiceProviderRegistration {
    ServiceProviderRegistration {
        client_id: "mairie".into(),
        client_name: "Mairie".into(),
        token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
        client_secret: Some(Secret::new(SECRET)),
        jwks: None,
        redirect_uris: vec!["https://mairie.example/cb".into()],
        post_logout_redirect_uris: vec![],
        scopes: vec!["openid".into(), "identite_pivot".into()],
        id_token_signed_response_alg: IdTokenAlgorithm::RS256,
        sector_identifier: None,
        allowed_idps: None,
        denied_idps: None,
        minimum_eidas_level: None,
        profile: Profile::Citizen,
        public_agents_only: false,
    }
}

fn field_of(result: Result<impl std::fmt::Debug, RegistrationError>) -> &'static str {
    result.unwrap_err().field
}

#[test]
fn a_service_provider_keeps_only_the_digest_of_its_secret() {
    let registered = sp().register(&[]).unwrap();
    match registered.authentication {
        ClientAuthentication::SecretBasic(digest) => assert!(digest.matches("mairie", SECRET)),
        other => panic!("{other:?}"),
    }
    assert_eq!(registered.sector.as_str(), "mairie");
    assert_eq!(registered.minimum_level, EidasLevel::Low);
}

#[test]
fn each_service_provider_rule_names_its_field() {
    type Change = Box<dyn Fn(&mut ServiceProviderRegistration)>;
    let cases: Vec<(&str, Change)> = vec![
        ("client_id", Box::new(|r| r.client_id = String::new())),
        ("client_id", Box::new(|r| r.client_id = DASHBOARD_CLIENT_ID.into())),
        ("sector_identifier", Box::new(|r| r.sector_identifier = Some("relais:personne".into()))),
        ("client_secret", Box::new(|r| r.client_secret = Some(Secret::new("short")))),
        ("client_secret", Box::new(|r| r.client_secret = None)),
        ("client_secret", Box::new(|r| r.token_endpoint_auth_method = TokenEndpointAuthMethod::None)),
        ("jwks", Box::new(|r| r.token_endpoint_auth_method = TokenEndpointAuthMethod::PrivateKeyJwt)),
        ("redirect_uris", Box::new(|r| r.redirect_uris.clear())),
        ("redirect_uris", Box::new(|r| r.redirect_uris = vec!["http://mairie.example/cb".into()])),
        ("redirect_uris", Box::new(|r| r.redirect_uris = vec!["https://mairie.example/cb#x".into()])),
        ("post_logout_redirect_uris", Box::new(|r| r.post_logout_redirect_uris = vec!["not a url".into()])),
        ("scopes", Box::new(|r| r.scopes = vec!["openid".into(), "telepathy".into()])),
        ("scopes", Box::new(|r| r.scopes = vec!["identite_pivot".into()])),
        ("allowed_idps", Box::new(|r| r.allowed_idps = Some(vec!["ameli".into()]))),
        ("allowed_idps", Box::new(|r| (r.allowed_idps, r.denied_idps) = (Some(vec![]), Some(vec![])))),
    ];
    for (field, change) in cases {
        let mut registration = sp();
        change(&mut registration);
        assert_eq!(field_of(registration.register(&[IdpId::new("impots")])), field);
    }
}

#[test]
fn a_native_application_may_use_its_own_scheme_and_loopback_is_http() {
    let mut registration = sp();
    registration.redirect_uris = vec!["fr.demoville.app:/callback".into(), "http://127.0.0.1:8001/cb".into()];
    registration.allowed_idps = Some(vec!["impots".into()]);
    let registered = registration.register(&[IdpId::new("impots")]).unwrap();
    assert_eq!(registered.idp_policy, IdpPolicy::AllowOnly(vec![IdpId::new("impots")]));
}

#[test]
fn an_identity_provider_needs_a_safe_id_https_a_secret_and_openid() {
    let idp = || IdentityProviderRegistration {
        id: "impots".into(),
        display_name: "Impôts".into(),
        issuer: url::Url::parse("https://impots.example").unwrap(),
        client_id: "relais".into(),
        client_secret: Some(Secret::new("s")),
        eidas_level: EidasLevel::Substantial,
        enabled: true,
        scopes: vec!["openid".into()],
        require_acr: true,
        token_endpoint_auth_method: UpstreamClientAuth::SecretPost,
        profile: Profile::Citizen,
        domains: vec![],
        default_for_agents: false,
    };
    assert_eq!(idp().register().unwrap().level, EidasLevel::Substantial);
    let mut bad = idp();
    bad.id = "imp/ots".into();
    assert_eq!(field_of(bad.register()), "id");
    let mut bad = idp();
    bad.issuer = url::Url::parse("http://impots.example").unwrap();
    assert_eq!(field_of(bad.register()), "issuer");
    let mut bad = idp();
    bad.client_secret = Some(Secret::new(""));
    assert_eq!(field_of(bad.register()), "client_secret");
    let mut bad = idp();
    bad.scopes = vec!["profile".into()];
    assert_eq!(field_of(bad.register()), "scopes");
}

#[test]
fn a_data_provider_serves_data_scopes_to_known_services_only() {
    let dp = || DataProviderRegistration {
        id: "caf".into(),
        name: "CAF".into(),
        client_secret: Some(Secret::new(SECRET)),
        signed_checktoken: false,
        scopes: vec![DataScopeRegistration {
            name: "quotient_familial".into(),
            label: "Quotient familial".into(),
            description: String::new(),
        }],
        allowed_service_providers: BTreeMap::from([("mairie".into(), vec!["quotient_familial".into()])]),
        eligibility: "Les collectivités territoriales".into(),
        rate_limit_per_minute: Some(600),
        openapi: Some(r#"{"openapi": "3.1.0", "info": {"title": "API"}, "paths": {"/d": {"get": {}}}}"#.into()),
        status_url: Some("https://caf.example/sante".into()),
    };
    let known = [SpId::new("mairie")];
    let registered = dp().register(&known).unwrap();
    assert_eq!(registered.about.rate_limit_per_minute, Some(600));
    assert_eq!(registered.about.api.as_ref().map(|api| api.operations.len()), Some(1));
    let mut bad = dp();
    bad.openapi = Some(r#"{"swagger": "2.0"}"#.into());
    assert_eq!(field_of(bad.register(&known)), "openapi");
    assert_eq!(registered.about.status_url.as_deref(), Some("https://caf.example/sante"));
    let mut bad = dp();
    bad.status_url = Some("http://caf.example/sante".into());
    assert_eq!(field_of(bad.register(&known)), "status_url");
    let mut bad = dp();
    bad.rate_limit_per_minute = Some(0);
    assert_eq!(field_of(bad.register(&known)), "rate_limit_per_minute");
    let mut bad = dp();
    bad.eligibility = "a\u{7}".into();
    assert_eq!(field_of(bad.register(&known)), "eligibility");
    assert!(dp().register(&known).unwrap().secret.matches("caf", SECRET));
    assert_eq!(field_of(dp().register(&[])), "allowed_service_providers");
    let mut bad = dp();
    bad.scopes[0].name = "family_name".into();
    assert_eq!(field_of(bad.register(&known)), "scopes");
    let mut bad = dp();
    bad.allowed_service_providers.insert("mairie".into(), vec!["enfants".into()]);
    assert_eq!(field_of(bad.register(&known)), "allowed_service_providers");
    let mut bad = dp();
    bad.client_secret = Some(Secret::new("short"));
    assert_eq!(field_of(bad.register(&known)), "client_secret");
}

#[test]
fn an_agent_service_names_agent_claims_and_a_citizen_service_cannot() {
    let mut agent = sp();
    agent.profile = Profile::Agent;
    agent.scopes = vec!["openid".into(), "usual_name".into(), "siret".into(), "organization_kind".into()];
    agent.public_agents_only = true;
    let registered = agent.clone().register(&[]).unwrap();
    assert_eq!(registered.agent_claims.len(), 3);
    assert_eq!(registered.subject_sector().as_str(), "relais:agents");
    let mut citizen = sp();
    citizen.scopes = vec!["openid".into(), "siret".into()];
    assert_eq!(field_of(citizen.register(&[])), "scopes");
    let mut citizen = sp();
    citizen.public_agents_only = true;
    assert_eq!(field_of(citizen.register(&[])), "public_agents_only");
    agent.scopes = vec!["openid".into(), "identite_pivot".into()];
    assert_eq!(field_of(agent.register(&[])), "scopes");
}

#[test]
fn only_an_agent_idp_routes_domains_and_they_must_be_domain_names() {
    let idp = |profile, domains: &[&str]| IdentityProviderRegistration {
        id: "ministere".into(),
        display_name: "Ministère".into(),
        issuer: url::Url::parse("https://annuaire.example").unwrap(),
        client_id: "relais".into(),
        client_secret: Some(Secret::new("s")),
        eidas_level: EidasLevel::Low,
        enabled: true,
        scopes: vec!["openid".into()],
        require_acr: false,
        token_endpoint_auth_method: UpstreamClientAuth::SecretBasic,
        profile,
        domains: domains.iter().map(|d| (*d).to_owned()).collect(),
        default_for_agents: false,
    };
    let registered = idp(Profile::Agent, &["Interieur.Gouv.FR", "interieur.gouv.fr"]).register().unwrap();
    assert_eq!(registered.agent_domains.len(), 1);
    assert_eq!(registered.agent_domains[0].as_str(), "interieur.gouv.fr");
    assert_eq!(field_of(idp(Profile::Citizen, &["interieur.gouv.fr"]).register()), "domains");
    assert_eq!(field_of(idp(Profile::Agent, &["not a domain"]).register()), "domains");
    assert_eq!(field_of(idp(Profile::Agent, &["localhost"]).register()), "domains");
}
