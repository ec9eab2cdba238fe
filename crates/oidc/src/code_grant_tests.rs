#![allow(clippy::unwrap_used)]
use relais_domain::clock::UnixTime;
use relais_domain::flow::{CodeGrant, DataGrant, IdentityGrant};
use relais_domain::scopes::{Scope, ScopeSet};
use relais_domain::values::{CodeChallenge, Nonce, RedirectUri, Sid};
use relais_domain::{EidasLevel, IdpId, PairwiseSub, PersonKey, SpId};

use super::*;
use crate::pkce::s256_challenge;

fn grant(challenge: Option<String>) -> CodeGrant {
    CodeGrant {
        sp: SpId::new("mairie"),
        redirect_uri: RedirectUri::new("https://mairie.example/cb"),
        code_challenge: challenge.map(CodeChallenge::new),
        nonce: Nonce::new("n"),
        grant: IdentityGrant {
            sub: PairwiseSub::from_token("s"),
            scopes: ScopeSet::from_scopes([Scope::OpenId]),
            claims: Default::default(),
            agent_claims: Default::default(),
            profile: Default::default(),
            acr: EidasLevel::Low,
            auth_time: UnixTime(1),
        },
        data: DataGrant {
            transfers: vec![],
            pivot: None,
            person: PersonKey::from_stored("p"),
            idp: IdpId::new("impots"),
            agent: None,
        },
        sid: Sid::new("session"),
    }
}

fn raw(code: Option<&str>, redirect: &str, verifier: Option<&str>) -> RawTokenRequest {
    RawTokenRequest {
        grant_type: Some("authorization_code".into()),
        code: code.map(Into::into),
        redirect_uri: Some(redirect.into()),
        code_verifier: verifier.map(Into::into),
        ..Default::default()
    }
}

#[test]
fn only_the_code_grant_with_a_code_is_parsed() {
    let mut form = raw(Some("c"), "https://mairie.example/cb", None);
    assert!(AuthorizationCodeRequest::parse(&form).is_ok());
    form.grant_type = Some("refresh_token".into());
    assert_eq!(AuthorizationCodeRequest::parse(&form).unwrap_err().code, ErrorCode::UnsupportedGrantType);
    let form = raw(Some(""), "https://mairie.example/cb", None);
    assert_eq!(AuthorizationCodeRequest::parse(&form).unwrap_err().code, ErrorCode::InvalidRequest);
}

#[test]
fn a_code_is_redeemed_only_by_its_client_with_its_redirect_uri() {
    let form = raw(Some("c"), "https://mairie.example/cb", None);
    let request = AuthorizationCodeRequest::parse(&form).unwrap();
    assert!(request.redeems(&grant(None), &SpId::new("mairie")).is_ok());
    assert_eq!(request.redeems(&grant(None), &SpId::new("other")).unwrap_err().code, ErrorCode::InvalidGrant);
    let form = raw(Some("c"), "https://mairie.example/cb/", None);
    let request = AuthorizationCodeRequest::parse(&form).unwrap();
    assert_eq!(request.redeems(&grant(None), &SpId::new("mairie")).unwrap_err().code, ErrorCode::InvalidGrant);
}

#[test]
fn pkce_must_match_both_ways() {
    let verifier = "a-verifier-of-enough-length-for-pkce-0123456789";
    let challenged = grant(Some(s256_challenge(verifier)));
    let good = raw(Some("c"), "https://mairie.example/cb", Some(verifier));
    assert!(AuthorizationCodeRequest::parse(&good).unwrap().redeems(&challenged, &SpId::new("mairie")).is_ok());
    let wrong = raw(Some("c"), "https://mairie.example/cb", Some("another-verifier-of-enough-length-0123456789"));
    let missing = raw(Some("c"), "https://mairie.example/cb", None);
    for form in [wrong, missing] {
        let refused = AuthorizationCodeRequest::parse(&form).unwrap().redeems(&challenged, &SpId::new("mairie"));
        assert_eq!(refused.unwrap_err().code, ErrorCode::InvalidGrant);
    }
    let unasked = AuthorizationCodeRequest::parse(&good).unwrap().redeems(&grant(None), &SpId::new("mairie"));
    assert_eq!(unasked.unwrap_err().code, ErrorCode::InvalidGrant);
}

#[test]
fn an_assertion_lives_until_its_expiry_with_leeway_on_nbf() {
    let claims = |exp, nbf| ClientAssertionClaims { iss: "c".into(), sub: "c".into(), jti: "j".into(), exp, nbf };
    assert_eq!(assertion_lifetime(&claims(160, None), UnixTime(100)).unwrap(), 60);
    assert!(assertion_lifetime(&claims(100, None), UnixTime(100)).is_err());
    assert!(assertion_lifetime(&claims(300, Some(160)), UnixTime(100)).is_ok());
    assert!(assertion_lifetime(&claims(300, Some(161)), UnixTime(100)).is_err());
    assert_eq!(assertion_replay_key(&SpId::new("sp"), &claims(1, None)), "sp:j");
}
