//! Checktoken: what a data provider learns about an access token.

use relais_oidc::ErrorCode;

use super::*;
use crate::engine::checktoken::{CheckTokenAnswer, CheckTokenForm};
use crate::engine::{checktoken, decide_consent, CONSENT_PATH};
use crate::error::ApiError;

/// An access token of mairie for which the person said `consent` to the family quotient.
async fn access_token(hub: &TestHub, consent: bool) -> (String, String) {
    let mut browser = browser();
    let outcome =
        sign_in(hub, &mut browser, &request("mairie", "openid quotient_familial"), "impots", "angela").await.unwrap();
    let flow = redirect_of(&outcome).strip_prefix(&format!("{CONSENT_PATH}/")).unwrap().to_owned();
    let accepted = consent.then(|| vec!["caf:quotient_familial".to_owned()]);
    let code = code_of(&decide_consent(&hub.state, &flow, accepted, &browser).await.unwrap());
    let answer = tokens(hub, &code).await;
    let id_token: relais_oidc::id_token::IdTokenClaims =
        hub.state.keys().verify_own(answer["id_token"].as_str().unwrap(), ISSUER).unwrap();
    (answer["access_token"].as_str().unwrap().to_owned(), id_token.sub)
}

async fn ask(hub: &TestHub, token: &str, secret: &str) -> Result<CheckTokenAnswer, ApiError> {
    let form = CheckTokenForm { token: Some(token.into()), ..Default::default() };
    checktoken(&hub.state, Some(&basic("caf", secret)), &form, false).await
}

fn json(answer: CheckTokenAnswer) -> serde_json::Value {
    match answer {
        CheckTokenAnswer::Json(body) => serde_json::to_value(body).unwrap(),
        CheckTokenAnswer::Jwt(_) => panic!("JSON asked"),
    }
}

#[tokio::test]
async fn a_consented_transfer_is_active_for_its_provider_with_a_sub_of_its_own() {
    let hub = TestHub::new();
    let (access, sp_sub) = access_token(&hub, true).await;
    let body = json(ask(&hub, &access, CAF_SECRET).await.unwrap());
    assert_eq!(body["active"], true);
    assert_eq!(body["client_id"], "mairie");
    assert_eq!(body["scope"], "quotient_familial");
    assert_eq!(body["identity"]["family_name"], "DUBOIS");
    assert!(body["identity"].get("email").is_none(), "the pivot identity only");
    assert_ne!(body["sub"], sp_sub.as_str(), "pairwise for the provider, not the service's");
    let last = hub.chain().await.pop().unwrap();
    assert_eq!((last.event.kind, last.event.outcome.as_str()), (relais_domain::trace::TraceKind::Checktoken, "active"));
}

#[tokio::test]
async fn a_refused_transfer_an_unknown_or_expired_token_are_inactive() {
    let hub = TestHub::new();
    let (refused, _) = access_token(&hub, false).await;
    assert_eq!(json(ask(&hub, &refused, CAF_SECRET).await.unwrap()), serde_json::json!({"active": false}));
    assert_eq!(json(ask(&hub, "made-up", CAF_SECRET).await.unwrap()), serde_json::json!({"active": false}));
    let (consented, _) = access_token(&hub, true).await;
    hub.advance(301);
    assert_eq!(json(ask(&hub, &consented, CAF_SECRET).await.unwrap())["active"], false);
}

#[tokio::test]
async fn a_provider_with_a_wrong_secret_is_an_invalid_client() {
    let hub = TestHub::new();
    match ask(&hub, "x", "not-the-secret").await {
        Err(ApiError::OAuth { error, .. }) => assert_eq!(error.code, ErrorCode::InvalidClient),
        _ => panic!("refused"),
    }
}

#[tokio::test]
async fn the_signed_answer_is_a_jwt_of_the_hub_for_the_provider() {
    let hub = TestHub::new();
    let (access, _) = access_token(&hub, true).await;
    let form = CheckTokenForm { token: Some(access), ..Default::default() };
    match checktoken(&hub.state, Some(&basic("caf", CAF_SECRET)), &form, true).await.unwrap() {
        CheckTokenAnswer::Jwt(jwt) => {
            let claims: serde_json::Value = hub.state.keys().verify_own(&jwt, ISSUER).unwrap();
            assert_eq!(claims["aud"], "caf");
            assert_eq!(claims["token_introspection"]["active"], true);
        }
        CheckTokenAnswer::Json(_) => panic!("a JWT asked"),
    }
}

#[tokio::test]
async fn a_request_without_a_token_is_invalid() {
    let hub = TestHub::new();
    let form = CheckTokenForm::default();
    match checktoken(&hub.state, Some(&basic("caf", CAF_SECRET)), &form, false).await {
        Err(ApiError::OAuth { error, .. }) => assert_eq!(error.code, ErrorCode::InvalidRequest),
        _ => panic!("refused"),
    }
}

#[tokio::test]
async fn a_logout_revokes_the_sessions_tokens_at_checktoken_and_userinfo_not_another_sessions() {
    let hub = TestHub::new();
    let mut browser = browser();
    let outcome =
        sign_in(&hub, &mut browser, &request("mairie", "openid quotient_familial"), "impots", "angela").await.unwrap();
    let flow = redirect_of(&outcome).strip_prefix(&format!("{CONSENT_PATH}/")).unwrap().to_owned();
    let accepted = Some(vec!["caf:quotient_familial".to_owned()]);
    let code = code_of(&decide_consent(&hub.state, &flow, accepted, &browser).await.unwrap());
    let ended = tokens(&hub, &code).await["access_token"].as_str().unwrap().to_owned();
    let (other, _) = access_token(&hub, true).await;
    assert_eq!(json(ask(&hub, &ended, CAF_SECRET).await.unwrap())["active"], true);

    let confirmed = crate::engine::logout(&hub.state, Default::default(), &browser, true).await;
    assert!(confirmed.is_ok());
    assert_eq!(json(ask(&hub, &ended, CAF_SECRET).await.unwrap()), serde_json::json!({"active": false}));
    match crate::engine::userinfo(&hub.state, Some(&ended)).await {
        Err(ApiError::Bearer(error)) => assert_eq!(error.code, ErrorCode::InvalidToken),
        _ => panic!("a revoked token is refused at userinfo"),
    }
    assert_eq!(json(ask(&hub, &other, CAF_SECRET).await.unwrap())["active"], true, "another session's token lives");
    assert!(crate::engine::userinfo(&hub.state, Some(&other)).await.is_ok());
}

#[tokio::test]
async fn a_code_redeemed_after_the_logout_gives_a_revoked_token() {
    let hub = TestHub::new();
    let mut browser = browser();
    let code = code_of(&sign_in(&hub, &mut browser, &request("mairie", "openid"), "impots", "angela").await.unwrap());
    assert!(crate::engine::logout(&hub.state, Default::default(), &browser, true).await.is_ok());
    let late = tokens(&hub, &code).await["access_token"].as_str().unwrap().to_owned();
    assert!(crate::engine::userinfo(&hub.state, Some(&late)).await.is_err(), "the session is over");
}
