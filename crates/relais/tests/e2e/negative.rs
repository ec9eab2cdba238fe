//! What must be refused, each with its exact error.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use relais_mocks::idp::Fault;
use relais_oidc::jose::HubKeys;
use serde_json::{json, Value};

use crate::harness::*;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// An authorization URL built by hand, for requests a library would refuse to build.
fn authorize_url(platform: &Platform, params: &[(&str, &str)]) -> String {
    let mut url = platform.url("/authorize");
    url.query_pairs_mut().extend_pairs(params);
    url.to_string()
}

fn sp_a_params<'a>() -> Vec<(&'a str, &'a str)> {
    vec![
        ("client_id", "sp-a"),
        ("redirect_uri", "https://sp-a.example/callback"),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "the-state"),
        ("nonce", "the-nonce"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
}

/// A code for sp-a (PKCE challenge of [`VERIFIER`]), through a full sign-in.
async fn code_for_sp_a(platform: &Platform) -> String {
    let browser = Browser::new();
    let html = browser.get(&authorize_url(platform, &sp_a_params())).await.text().await.unwrap();
    let redirect = through_choice(&browser, platform, &html, "impots", 0).await;
    query_param(&redirect, "code").unwrap()
}

async fn token_basic(platform: &Platform, code: &str, verifier: &str, secret: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(platform.url("/token"))
        .header("authorization", format!("Basic {}", STANDARD.encode(format!("sp-a:{secret}"))))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", "https://sp-a.example/callback"),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
}

async fn oauth_error(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (status, body["error"].as_str().unwrap_or_default().to_owned())
}

pub async fn token_with_assertion(
    platform: &Platform,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
    keys: &HubKeys,
    client_id: &str,
) -> reqwest::Response {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let claims = json!({"iss": client_id, "sub": client_id, "aud": platform.url("/token").as_str(), "jti": relais_oidc::random::random_token(), "exp": now + 60, "iat": now});
    let assertion = keys.sign(relais_domain::providers::IdTokenAlgorithm::ES256, &claims, 0).unwrap();
    reqwest::Client::new()
        .post(platform.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
            ("client_id", client_id),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", &assertion),
        ])
        .send()
        .await
        .unwrap()
}

async fn error_page(response: reqwest::Response) -> (u16, String) {
    assert!(response.headers().get("location").is_none(), "an error page, not a redirect");
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn unknown_client_and_unregistered_redirect_uri_get_an_error_page_not_a_redirect() {
    let platform = Platform::start().await;
    let browser = Browser::new();
    let mut params = sp_a_params();
    params[0] = ("client_id", "nobody");
    let (status, html) = error_page(browser.get(&authorize_url(&platform, &params)).await).await;
    assert_eq!(status, 400);
    assert!(html.contains("Service inconnu") && html.contains("id=\"reference\""), "{html}");

    let mut params = sp_a_params();
    params[1] = ("redirect_uri", "https://sp-a.example/callback/../evil");
    let (status, html) = error_page(browser.get(&authorize_url(&platform, &params)).await).await;
    assert_eq!(status, 400);
    assert!(html.contains("Adresse de retour non reconnue"));
}

#[tokio::test]
async fn missing_state_or_nonce_and_plain_pkce_are_refused_by_redirect() {
    let platform = Platform::start().await;
    let browser = Browser::new();
    let without = |name: &str| sp_a_params().into_iter().filter(|(k, _)| *k != name).collect::<Vec<_>>();

    let redirect = location(&browser.get(&authorize_url(&platform, &without("state"))).await);
    assert_eq!(query_param(&redirect, "error").as_deref(), Some("invalid_request"));
    assert_eq!(query_param(&redirect, "state"), None);

    let redirect = location(&browser.get(&authorize_url(&platform, &without("nonce"))).await);
    assert_eq!(query_param(&redirect, "error").as_deref(), Some("invalid_request"));
    assert_eq!(query_param(&redirect, "state").as_deref(), Some("the-state"));
    assert_eq!(query_param(&redirect, "iss").as_deref(), Some(platform.issuer.as_str()));

    let mut plain = without("code_challenge_method");
    plain.push(("code_challenge_method", "plain"));
    let redirect = location(&browser.get(&authorize_url(&platform, &plain)).await);
    assert_eq!(query_param(&redirect, "error").as_deref(), Some("invalid_request"));

    let mut public =
        without("code_challenge").into_iter().filter(|(k, _)| *k != "code_challenge_method").collect::<Vec<_>>();
    public[0] = ("client_id", "sp-public");
    public[1] = ("redirect_uri", "https://sp-public.example/callback");
    let redirect = location(&browser.get(&authorize_url(&platform, &public)).await);
    assert_eq!(query_param(&redirect, "error").as_deref(), Some("invalid_request"), "public clients need PKCE");

    let mut token = sp_a_params();
    token[2] = ("response_type", "token");
    let redirect = location(&browser.get(&authorize_url(&platform, &token)).await);
    assert_eq!(query_param(&redirect, "error").as_deref(), Some("unsupported_response_type"));
}

#[tokio::test]
async fn pkce_mismatch_is_refused() {
    let platform = Platform::start().await;
    let code = code_for_sp_a(&platform).await;
    let wrong = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    assert_eq!(
        oauth_error(token_basic(&platform, &code, wrong, "secret-a-for-tests-0123456789abcdef").await).await,
        (400, "invalid_grant".into())
    );
    assert_eq!(
        oauth_error(token_basic(&platform, &code, VERIFIER, "secret-a-for-tests-0123456789abcdef").await).await,
        (400, "invalid_grant".into()),
        "the code is burnt"
    );
}

#[tokio::test]
async fn a_reused_code_is_refused_and_revokes_its_tokens() {
    let platform = Platform::start().await;
    let code = code_for_sp_a(&platform).await;
    let first = token_basic(&platform, &code, VERIFIER, "secret-a-for-tests-0123456789abcdef").await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers().get("cache-control").unwrap(), "no-store");
    let tokens: Value = first.json().await.unwrap();
    let access_token = tokens["access_token"].as_str().unwrap();
    let userinfo = |token: String| {
        let url = platform.url("/userinfo");
        async move { reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap() }
    };
    assert_eq!(userinfo(access_token.to_owned()).await.status(), 200);

    assert_eq!(
        oauth_error(token_basic(&platform, &code, VERIFIER, "secret-a-for-tests-0123456789abcdef").await).await,
        (400, "invalid_grant".into())
    );
    let revoked = userinfo(access_token.to_owned()).await;
    assert_eq!(revoked.status(), 401);
    assert!(revoked.headers().get("www-authenticate").unwrap().to_str().unwrap().contains("invalid_token"));
}

#[tokio::test]
async fn an_expired_code_and_an_expired_access_token_are_refused() {
    let platform = Platform::start().await;
    let code = code_for_sp_a(&platform).await;
    platform.clock.advance(61);
    assert_eq!(
        oauth_error(token_basic(&platform, &code, VERIFIER, "secret-a-for-tests-0123456789abcdef").await).await,
        (400, "invalid_grant".into())
    );

    let code = code_for_sp_a(&platform).await;
    let tokens: Value =
        token_basic(&platform, &code, VERIFIER, "secret-a-for-tests-0123456789abcdef").await.json().await.unwrap();
    platform.clock.advance(platform.config().settings.access_token_lifetime + 1);
    let response = reqwest::Client::new()
        .get(platform.url("/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn wrong_client_secret_and_wrong_private_key_jwt_signature_are_refused() {
    let platform = Platform::start().await;
    let code = code_for_sp_a(&platform).await;
    let response = token_basic(&platform, &code, VERIFIER, "not-the-secret").await;
    assert!(response.headers().get("www-authenticate").is_some());
    assert_eq!(oauth_error(response).await, (401, "invalid_client".into()));

    // Signed with a key that is not the one sp-jwt registered.
    let impostor = HubKeys::from_material(vec![relais_oidc::jose::KeyMaterial::generate(
        relais_domain::providers::IdTokenAlgorithm::ES256,
    )
    .unwrap()])
    .unwrap();
    let response =
        token_with_assertion(&platform, &code, "https://sp-jwt.example/callback", VERIFIER, &impostor, "sp-jwt").await;
    assert_eq!(oauth_error(response).await, (401, "invalid_client".into()));

    // A client registered for one method cannot use another.
    let response = reqwest::Client::new()
        .post(platform.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", "sp-a"),
            ("client_secret", "secret-a-for-tests-0123456789abcdef"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(oauth_error(response).await, (401, "invalid_client".into()));
}

/// A sign-in at `ameli` while it misbehaves; the page the person ends on.
async fn sign_in_with_fault(platform: &Platform, fault: Fault) -> (u16, String) {
    platform.idp("ameli").set_fault(fault);
    let browser = Browser::new();
    let html = browser.get(&authorize_url(platform, &sp_a_params())).await.text().await.unwrap();
    let outcome = through_choice(&browser, platform, &html, "ameli", 0).await;
    let mut parts = outcome.splitn(3, ':');
    assert_eq!(parts.next(), Some("status"), "the hub must not redirect to the SP: {outcome}");
    (parts.next().unwrap().parse().unwrap(), parts.next().unwrap().to_owned())
}

#[tokio::test]
async fn id_tokens_from_the_idp_that_fail_verification_are_rejected() {
    let platform = Platform::start().await;
    for fault in [
        Fault::BadSignature,
        Fault::WrongAudience,
        Fault::WrongNonce,
        Fault::AlgNone,
        Fault::WrongIssuer,
        Fault::ExpiredIdToken,
        Fault::UserinfoOtherSub,
    ] {
        let (status, html) = sign_in_with_fault(&platform, fault.clone()).await;
        assert_eq!(status, 502, "{fault:?}");
        assert!(html.contains("pas pu être vérifiée"), "{fault:?}: {html}");
    }
    let (status, html) = sign_in_with_fault(&platform, Fault::MissingClaim("birthdate".into())).await;
    assert_eq!(status, 502);
    assert!(html.contains("Identité incomplète"), "{html}");
}

#[tokio::test]
async fn an_idp_callback_cannot_be_replayed_nor_completed_in_another_browser() {
    let platform = Platform::start().await;
    let browser = Browser::new();
    let html = browser.get(&authorize_url(&platform, &sp_a_params())).await.text().await.unwrap();
    let to_idp =
        location(&browser.post(platform.url(&form_action(&html)).as_str(), &[("idp".into(), "impots".into())]).await);
    let page = browser.get(&to_idp).await.text().await.unwrap();
    let mut form = hidden_inputs(&page);
    form.push(("identity".into(), "0".into()));
    let idp_base = url::Url::parse(&to_idp).unwrap();
    let callback = location(&browser.post(idp_base.join(&form_action(&page)).unwrap().as_str(), &form).await);

    let (status, html) = error_page(Browser::new().get(&callback).await).await;
    assert_eq!((status, html.contains("Votre session a expiré")), (400, true), "another browser");
    let (status, _) = error_page(browser.get(&callback).await).await;
    assert_eq!(status, 400, "the upstream state was consumed by the first attempt");
}

#[tokio::test]
async fn userinfo_without_a_token_is_a_bare_challenge() {
    let platform = Platform::start().await;
    let response = reqwest::Client::new().get(platform.url("/userinfo")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers().get("www-authenticate").unwrap(), "Bearer realm=\"relais\"");
    let response = reqwest::Client::new().get(platform.url("/userinfo")).bearer_auth("forged").send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().get("www-authenticate").unwrap().to_str().unwrap().contains("error=\"invalid_token\""));
}

#[tokio::test]
async fn an_answer_on_another_idps_callback_is_rejected() {
    let platform = Platform::start().await;
    let browser = Browser::new();
    let html = browser.get(&authorize_url(&platform, &sp_a_params())).await.text().await.unwrap();
    let to_idp =
        location(&browser.post(platform.url(&form_action(&html)).as_str(), &[("idp".into(), "impots".into())]).await);
    let page = browser.get(&to_idp).await.text().await.unwrap();
    let mut form = hidden_inputs(&page);
    form.push(("identity".into(), "0".into()));
    let idp_base = url::Url::parse(&to_idp).unwrap();
    let callback = location(&browser.post(idp_base.join(&form_action(&page)).unwrap().as_str(), &form).await);
    assert!(callback.contains("/idp/impots/callback?"));
    let (status, html) = error_page(browser.get(&callback.replace("/idp/impots/", "/idp/ameli/")).await).await;
    assert_eq!(status, 502);
    assert!(html.contains("pas pu être vérifiée"));
}
