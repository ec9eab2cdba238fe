#![allow(clippy::unwrap_used)]
use relais_domain::{Scope, ScopeSet};

use super::*;
use crate::sealing::SealingKey;

const SECRET: &str = "0123456789abcdef0123456789abcdef-sp";

fn ring() -> KeyRing {
    KeyRing::new(vec![SealingKey::derive("t", "kek", "test")]).unwrap()
}

fn sp() -> ServiceProvider {
    ServiceProvider {
        id: SpId::new("mairie"),
        name: "Mairie".into(),
        authentication: ClientAuthentication::SecretPost(SecretDigest::of("mairie", &Secret::new(SECRET))),
        redirect_uris: vec!["https://mairie.example/cb".into()],
        post_logout_redirect_uris: vec!["https://mairie.example/".into()],
        scopes: ScopeSet::from_scopes([Scope::OpenId, Scope::IdentitePivot]),
        id_token_algorithm: IdTokenAlgorithm::ES256,
        sector: Sector::new("mairie"),
        idp_policy: IdpPolicy::Deny(vec![IdpId::new("b")]),
        minimum_level: EidasLevel::Substantial,
        profile: Profile::Citizen,
        agent_claims: vec![],
        public_agents_only: false,
    }
}

#[test]
fn a_service_provider_row_round_trips_and_holds_no_secret() {
    let row = service_provider_row(&sp()).unwrap();
    assert!(!row.contains(SECRET));
    assert!(row.contains("\"token_endpoint_auth_method\":\"client_secret_post\""));
    let back = service_provider(&row).unwrap();
    assert_eq!(back.name, "Mairie");
    assert_eq!(back.scopes, sp().scopes);
    assert_eq!(back.minimum_level, EidasLevel::Substantial);
    assert_eq!(back.idp_policy, sp().idp_policy);
    match back.authentication {
        ClientAuthentication::SecretPost(digest) => assert!(digest.matches("mairie", SECRET)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_first_layout_row_is_read_with_its_secret_turned_into_a_digest() {
    let legacy = serde_json::json!({
        "id": "mairie", "name": "Mairie",
        "authentication": {"method": "secret_basic", "credential": SECRET},
        "redirect_uris": ["https://mairie.example/cb"], "post_logout_redirect_uris": [],
        "scopes": ["openid"], "id_token_algorithm": "RS256", "sector": "mairie",
        "idp_policy": {"policy": "all"}, "minimum_level": "eidas1"
    });
    let back = service_provider(&legacy.to_string()).unwrap();
    match back.authentication {
        ClientAuthentication::SecretBasic(digest) => assert!(digest.matches("mairie", SECRET)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_identity_provider_row_seals_the_hubs_secret() {
    let idp = IdentityProvider {
        id: IdpId::new("impots"),
        display_name: "Impôts".into(),
        issuer: url::Url::parse("https://impots.example").unwrap(),
        client_id: "relais".into(),
        client_secret: Secret::new("the-hub-secret-at-the-idp"),
        level: EidasLevel::Low,
        enabled: true,
        scopes: vec!["openid".into()],
        require_acr: false,
        token_auth: UpstreamClientAuth::SecretPost,
        profile: Profile::Citizen,
        agent_domains: vec![],
        agent_default: false,
    };
    let row = identity_provider_row(&idp, &ring()).unwrap();
    assert!(!row.contains("the-hub-secret-at-the-idp"));
    let back = identity_provider(&row, &ring()).unwrap();
    assert_eq!(back.client_secret.expose(), "the-hub-secret-at-the-idp");
    assert_eq!(back.token_auth, UpstreamClientAuth::SecretPost);
    let other = KeyRing::new(vec![SealingKey::derive("t", "kek", "another")]).unwrap();
    assert!(identity_provider(&row, &other).is_err(), "another deployment's key does not open it");
    // A row copied under another id does not open either (the id is in the sealing context).
    let moved = row.replace("\"id\":\"impots\"", "\"id\":\"ameli\"");
    assert!(identity_provider(&moved, &ring()).is_err());
}

#[test]
fn a_data_provider_row_keeps_the_digest_only() {
    let dp = DataProvider {
        id: DpId::new("caf"),
        name: "CAF".into(),
        scopes: vec![],
        secret: SecretDigest::of("caf", &Secret::new(SECRET)),
        signed_checktoken: true,
        allowed: BTreeMap::new(),
        about: Default::default(),
    };
    let row = data_provider_row(&dp).unwrap();
    assert!(!row.contains(SECRET));
    assert!(data_provider(&row).unwrap().secret.matches("caf", SECRET));
}
