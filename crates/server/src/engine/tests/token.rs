//! Steps 5 and 6: the token request and userinfo.

use relais_oidc::id_token::IdTokenClaims;
use relais_oidc::ErrorCode;

use super::*;
use crate::engine::{token, userinfo};
use crate::error::ApiError;

async fn a_code(hub: &TestHub) -> String {
    let mut browser = browser();
    code_of(
        &sign_in(hub, &mut browser, &request("mairie", "openid identite_pivot email"), "impots", "angela")
            .await
            .unwrap(),
    )
}

fn oauth_error(result: Result<serde_json::Value, ApiError>) -> ErrorCode {
    match result {
        Err(ApiError::OAuth { error, .. }) => error.code,
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("not refused"),
    }
}

#[tokio::test]
async fn a_code_gives_a_signed_id_token_and_an_access_token() {
    let hub = TestHub::new();
    let code = a_code(&hub).await;
    let answer = token(&hub.state, Some(&basic("mairie", MAIRIE_SECRET)), &exchange(&code)).await.unwrap();
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["scope"], "openid email identite_pivot");
    let claims: IdTokenClaims = hub.state.keys().verify_own(answer["id_token"].as_str().unwrap(), ISSUER).unwrap();
    assert_eq!((claims.aud.as_str(), claims.nonce.as_str(), claims.acr.as_str()), ("mairie", "sp-nonce", "eidas1"));
    assert_eq!(claims.at_hash, relais_oidc::jose::at_hash(answer["access_token"].as_str().unwrap()));
    assert_eq!(claims.claims["family_name"], "DUBOIS");
    assert_eq!(claims.exp, START + 300);
}

#[tokio::test]
async fn a_wrong_secret_is_an_invalid_client() {
    let hub = TestHub::new();
    let code = a_code(&hub).await;
    let result = token(&hub.state, Some(&basic("mairie", "not-the-secret")), &exchange(&code)).await;
    match result {
        Err(ApiError::OAuth { error, basic }) => assert!(error.code == ErrorCode::InvalidClient && basic),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn another_grant_type_is_unsupported() {
    let hub = TestHub::new();
    let mut form = exchange("x");
    form.grant_type = Some("client_credentials".into());
    let result = token(&hub.state, Some(&basic("mairie", MAIRIE_SECRET)), &form).await;
    assert_eq!(oauth_error(result), ErrorCode::UnsupportedGrantType);
}

#[tokio::test]
async fn a_wrong_redirect_uri_or_verifier_is_an_invalid_grant() {
    let hub = TestHub::new();
    let mut form = exchange(&a_code(&hub).await);
    form.redirect_uri = Some("https://mairie.example/other".into());
    assert_eq!(
        oauth_error(token(&hub.state, Some(&basic("mairie", MAIRIE_SECRET)), &form).await),
        ErrorCode::InvalidGrant
    );
    let mut form = exchange(&a_code(&hub).await);
    form.code_verifier = Some("another-verifier-of-enough-length-0123456789abcdef".into());
    assert_eq!(
        oauth_error(token(&hub.state, Some(&basic("mairie", MAIRIE_SECRET)), &form).await),
        ErrorCode::InvalidGrant
    );
}

#[tokio::test]
async fn a_code_of_another_client_is_an_invalid_grant() {
    let hub = TestHub::new();
    let mut form = exchange(&a_code(&hub).await);
    form.redirect_uri = Some("https://ecole.example/cb".into());
    let result = token(&hub.state, Some(&basic("ecole", MAIRIE_SECRET)), &form).await;
    assert_eq!(oauth_error(result), ErrorCode::InvalidGrant);
}

#[tokio::test]
async fn an_expired_code_is_an_invalid_grant() {
    let hub = TestHub::new();
    let code = a_code(&hub).await;
    hub.advance(61);
    let result = token(&hub.state, Some(&basic("mairie", MAIRIE_SECRET)), &exchange(&code)).await;
    assert_eq!(oauth_error(result), ErrorCode::InvalidGrant);
}

#[tokio::test]
async fn a_code_presented_again_is_refused_and_revokes_its_access_token() {
    let mut hub = TestHub::new();
    let code = a_code(&hub).await;
    let answer = token(&hub.state, Some(&basic("mairie", MAIRIE_SECRET)), &exchange(&code)).await.unwrap();
    let access = answer["access_token"].as_str().unwrap().to_owned();
    assert!(userinfo(&hub.state, Some(&access)).await.is_ok());
    let again = token(&hub.state, Some(&basic("mairie", MAIRIE_SECRET)), &exchange(&code)).await;
    assert_eq!(oauth_error(again), ErrorCode::InvalidGrant);
    assert!(matches!(userinfo(&hub.state, Some(&access)).await, Err(ApiError::Bearer(_))), "revoked");
    assert!(hub.emitted().contains(&("token_issued".into(), "code_replayed".into())));
}

#[tokio::test]
async fn userinfo_gives_the_sub_and_the_claims_of_the_scopes() {
    let hub = TestHub::new();
    let code = a_code(&hub).await;
    let answer = token(&hub.state, Some(&basic("mairie", MAIRIE_SECRET)), &exchange(&code)).await.unwrap();
    let claims: IdTokenClaims = hub.state.keys().verify_own(answer["id_token"].as_str().unwrap(), ISSUER).unwrap();
    let info = userinfo(&hub.state, answer["access_token"].as_str()).await.unwrap();
    assert_eq!(info["sub"], claims.sub.as_str());
    assert_eq!(info["email"], "angela@example.fr");
    assert_eq!(info["birthplace"], "75107");
}

#[tokio::test]
async fn userinfo_without_a_token_challenges_and_with_a_bad_one_refuses() {
    let hub = TestHub::new();
    assert!(matches!(userinfo(&hub.state, None).await, Err(ApiError::BearerMissing)));
    match userinfo(&hub.state, Some("made-up")).await {
        Err(ApiError::Bearer(error)) => assert_eq!(error.code, ErrorCode::InvalidToken),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_expired_access_token_is_refused() {
    let hub = TestHub::new();
    let code = a_code(&hub).await;
    let answer = token(&hub.state, Some(&basic("mairie", MAIRIE_SECRET)), &exchange(&code)).await.unwrap();
    hub.advance(301);
    assert!(matches!(userinfo(&hub.state, answer["access_token"].as_str()).await, Err(ApiError::Bearer(_))));
}

#[tokio::test]
async fn the_sub_is_pairwise_and_stable_and_a_hint_of_someone_else_asks_again() {
    let hub = TestHub::new();
    let sub_of = |answer: &serde_json::Value| {
        let claims: IdTokenClaims = hub.state.keys().verify_own(answer["id_token"].as_str().unwrap(), ISSUER).unwrap();
        (claims.sub, answer["id_token"].as_str().unwrap().to_owned())
    };
    let (angela, _) = sub_of(
        &token(&hub.state, Some(&basic("mairie", MAIRIE_SECRET)), &exchange(&a_code(&hub).await)).await.unwrap(),
    );
    let (again, hint) = sub_of(
        &token(&hub.state, Some(&basic("mairie", MAIRIE_SECRET)), &exchange(&a_code(&hub).await)).await.unwrap(),
    );
    assert_eq!(angela, again, "stable across sign-ins");

    let mut paul = browser();
    code_of(&sign_in(&hub, &mut paul, &request("mairie", "openid"), "impots", "paul").await.unwrap());
    let mut raw = request("mairie", "openid");
    raw.id_token_hint = Some(hint);
    let outcome = crate::engine::authorize(&hub.state, &raw, &paul).await.unwrap();
    assert!(matches!(outcome.next, Next::Choice { .. }), "Paul's session does not serve a hint naming Angela");
}
