//! Drives the mock IdP with the `openidconnect` crate as a relying party, and the demo SP
//! against the mock IdP standing in for the hub. Everything on 127.0.0.1:0.
// Tests stand outside the hub: they may read the system clock and the OS generator.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreUserInfoClaims};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl,
    Nonce, OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse as _,
};
use relais_mocks::idp::{default_identities, Fault, MockIdp, MockIdpSettings};
use relais_mocks::sp::{serve_demo_sp, DemoSpSettings};
use reqwest::StatusCode;
use tokio::net::TcpListener;

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const POST_LOGOUT: &str = "http://127.0.0.1:9/logged-out";
const SECRET: &str = "s3cr&t:with%odd chars";

type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

async fn spawn_idp(redirect: &str, post_logout: &str) -> MockIdp {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = url::Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    MockIdp::serve(
        listener,
        MockIdpSettings {
            id: "impots".into(),
            display_name: "Impôts (démo)".into(),
            issuer,
            client_id: "relais-hub".into(),
            client_secret: SECRET.into(),
            redirect_uris: vec![redirect.into()],
            post_logout_redirect_uris: vec![post_logout.into()],
            acr: "eidas2".into(),
            identities: default_identities("impots", 0),
        },
    )
    .await
    .unwrap()
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap()
}

fn issuer_of(idp: &MockIdp) -> String {
    idp.issuer().as_str().trim_end_matches('/').to_owned()
}

async fn rp(idp: &MockIdp, http: &reqwest::Client) -> Client {
    let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(issuer_of(idp)).unwrap(), http).await.unwrap();
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new("relais-hub".into()),
        Some(ClientSecret::new(SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap())
}

/// Undoes the HTML escaping of an attribute value.
fn unescape(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The hidden fields of the login page, as a browser would submit them.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|input| {
            let name = input.split("name=\"").nth(1).unwrap().split('"').next().unwrap();
            let value = input.split("value=\"").nth(1).unwrap().split('"').next().unwrap();
            (unescape(name), unescape(value))
        })
        .collect()
}

fn location(response: &reqwest::Response) -> url::Url {
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "expected a 303 from {}", response.url());
    let location = response.headers()[reqwest::header::LOCATION].to_str().unwrap();
    response.url().join(location).unwrap()
}

fn param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Shows the login page for `url` and logs in as identity `index`; returns the redirect.
async fn log_in(http: &reqwest::Client, idp: &MockIdp, url: url::Url, index: usize) -> url::Url {
    let page = http.get(url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("lang=\"fr\""));
    assert_eq!(html.matches("<h1>").count(), 1);
    assert!(html.contains("Impôts (démo)"));
    assert!(html.contains("Se connecter en tant que Angela Claire Louise DUBOIS"));
    let mut form = hidden_fields(&html);
    form.push(("identity".into(), index.to_string()));
    let response = http.post(format!("{}/authorize/login", issuer_of(idp))).form(&form).send().await.unwrap();
    location(&response)
}

struct Authorized {
    code: String,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
}

async fn authorize(http: &reqwest::Client, idp: &MockIdp, client: &Client) -> Authorized {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            openidconnect::core::CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("identite_pivot".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .add_extra_param("prompt", "login")
        .add_extra_param("acr_values", "eidas2")
        .url();
    let back = log_in(http, idp, url, 0).await;
    assert!(back.as_str().starts_with(REDIRECT));
    assert_eq!(param(&back, "state").as_deref(), Some(csrf.secret().as_str()));
    assert_eq!(param(&back, "iss"), Some(issuer_of(idp)));
    Authorized { code: param(&back, "code").unwrap(), nonce, verifier }
}

#[tokio::test]
async fn full_flow_with_an_openidconnect_relying_party() {
    let idp = spawn_idp(REDIRECT, POST_LOGOUT).await;
    let http = browser();
    let client = rp(&idp, &http).await;
    let auth = authorize(&http, &idp, &client).await;
    assert_eq!(idp.active_sessions(), 1);

    let tokens = client
        .exchange_code(AuthorizationCode::new(auth.code.clone()))
        .unwrap()
        .set_pkce_verifier(auth.verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().unwrap();
    let claims = id_token.claims(&client.id_token_verifier(), &auth.nonce).unwrap();
    assert_eq!(claims.subject().as_str(), "impots-angela-dubois");
    assert_eq!(claims.auth_context_ref().unwrap().as_ref(), "eidas2");
    assert!(claims.auth_time().is_some());

    let userinfo: CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), Some(claims.subject().clone()))
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(userinfo.given_name().unwrap().get(None).unwrap().as_str(), "Angela Claire Louise");
    assert_eq!(userinfo.email().unwrap().as_str(), "angela.dubois@example.fr");

    // The raw userinfo carries the pivot identity's birth claims.
    let raw: serde_json::Value = http
        .get(format!("{}/userinfo", issuer_of(&idp)))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(raw["birthplace"], "75107");
    assert_eq!(raw["birthcountry"], "99100");
    assert_eq!(raw["birthdate"], "1962-08-24");
    assert!(raw.get("preferred_username").is_none());

    // The token endpoint got client_secret_basic.
    let token_request = idp.received_requests().into_iter().find(|r| r.path == "/token").unwrap();
    assert_eq!(token_request.method, "POST");
    assert!(token_request.body.contains("grant_type=authorization_code"));
    assert!(token_request.headers.iter().any(|(name, value)| name == "authorization" && value.starts_with("Basic ")));

    // The code is single-use.
    let again = client
        .exchange_code(AuthorizationCode::new(auth.code))
        .unwrap()
        .set_pkce_verifier(PkceCodeVerifier::new("x".repeat(43)))
        .request_async(&http)
        .await;
    assert!(again.is_err());

    // RP-initiated logout ends the session and comes back with the state.
    let session: serde_json::Value =
        http.get(format!("{}/session", issuer_of(&idp))).send().await.unwrap().json().await.unwrap();
    assert_eq!(session["active"], true);
    let mut logout = url::Url::parse(&format!("{}/logout", issuer_of(&idp))).unwrap();
    logout
        .query_pairs_mut()
        .append_pair("id_token_hint", &id_token.to_string())
        .append_pair("post_logout_redirect_uri", POST_LOGOUT)
        .append_pair("state", "au-revoir");
    let back = location(&http.get(logout).send().await.unwrap());
    assert!(back.as_str().starts_with(POST_LOGOUT));
    assert_eq!(param(&back, "state").as_deref(), Some("au-revoir"));
    assert_eq!(idp.active_sessions(), 0);
    let session: serde_json::Value =
        http.get(format!("{}/session", issuer_of(&idp))).send().await.unwrap().json().await.unwrap();
    assert_eq!(session["active"], false);
}

async fn exchange(
    http: &reqwest::Client,
    idp: &MockIdp,
    client: &Client,
) -> (openidconnect::core::CoreTokenResponse, Nonce) {
    let auth = authorize(http, idp, client).await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(auth.code))
        .unwrap()
        .set_pkce_verifier(auth.verifier)
        .request_async(http)
        .await
        .unwrap();
    (tokens, auth.nonce)
}

#[tokio::test]
async fn id_token_faults_fail_verification() {
    let idp = spawn_idp(REDIRECT, POST_LOGOUT).await;
    let http = browser();
    let client = rp(&idp, &http).await;
    for fault in [
        Fault::BadSignature,
        Fault::WrongAudience,
        Fault::WrongNonce,
        Fault::WrongIssuer,
        Fault::ExpiredIdToken,
        Fault::MissingClaim("nonce".into()),
    ] {
        idp.set_fault(fault.clone());
        let (tokens, nonce) = exchange(&http, &idp, &client).await;
        let id_token = tokens.id_token().unwrap();
        assert!(id_token.claims(&client.id_token_verifier(), &nonce).is_err(), "{fault:?} was accepted");
    }
    idp.set_fault(Fault::None);
    let (tokens, nonce) = exchange(&http, &idp, &client).await;
    assert!(tokens.id_token().unwrap().claims(&client.id_token_verifier(), &nonce).is_ok());
}

#[tokio::test]
async fn alg_none_is_unsigned() {
    let idp = spawn_idp(REDIRECT, POST_LOGOUT).await;
    let http = browser();
    let client = rp(&idp, &http).await;
    idp.set_fault(Fault::AlgNone);
    let auth = authorize(&http, &idp, &client).await;
    let raw: serde_json::Value = http
        .post(format!("{}/token", issuer_of(&idp)))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", auth.code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", auth.verifier.secret().as_str()),
            ("client_id", "relais-hub"),
            ("client_secret", SECRET),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id_token = raw["id_token"].as_str().unwrap();
    assert!(id_token.ends_with('.'));
    let header = id_token.split('.').next().unwrap();
    use base64::Engine as _;
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap();
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&header).unwrap()["alg"], "none");
}

#[tokio::test]
async fn userinfo_faults() {
    let idp = spawn_idp(REDIRECT, POST_LOGOUT).await;
    let http = browser();
    let client = rp(&idp, &http).await;

    idp.set_fault(Fault::UserinfoOtherSub);
    let (tokens, nonce) = exchange(&http, &idp, &client).await;
    let claims = tokens.id_token().unwrap().claims(&client.id_token_verifier(), &nonce).unwrap();
    let userinfo: Result<CoreUserInfoClaims, _> = client
        .user_info(tokens.access_token().clone(), Some(claims.subject().clone()))
        .unwrap()
        .request_async(&http)
        .await;
    assert!(userinfo.is_err(), "another sub must be refused by the RP");

    idp.set_fault(Fault::MissingClaim("family_name".into()));
    let (tokens, _) = exchange(&http, &idp, &client).await;
    let raw: serde_json::Value = http
        .get(format!("{}/userinfo", issuer_of(&idp)))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(raw.get("family_name").is_none());
    assert_eq!(raw["given_name"], "Angela Claire Louise");

    let refused = http.get(format!("{}/userinfo", issuer_of(&idp))).bearer_auth("not-a-token").send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
}

#[tokio::test]
async fn authorization_and_token_requests_are_validated() {
    let idp = spawn_idp(REDIRECT, POST_LOGOUT).await;
    let http = browser();
    let base = issuer_of(&idp);
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let authorize_with = |pairs: &[(&str, &str)]| {
        let mut url = url::Url::parse(&format!("{base}/authorize")).unwrap();
        url.query_pairs_mut().extend_pairs(pairs);
        url
    };
    let good = [
        ("client_id", "relais-hub"),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid identite_pivot"),
        ("state", "st"),
        ("nonce", "nn"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    let ok = http.get(authorize_with(&good)).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);

    let mut bad_redirect = good;
    bad_redirect[1].1 = "http://127.0.0.1:9/evil";
    let page = http.get(authorize_with(&bad_redirect)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    assert!(page.text().await.unwrap().contains("lang=\"fr\""));

    let mut bad_client = good;
    bad_client[0].1 = "unknown";
    assert_eq!(http.get(authorize_with(&bad_client)).send().await.unwrap().status(), StatusCode::BAD_REQUEST);

    let mut plain = good;
    plain[7].1 = "plain";
    let back = location(&http.get(authorize_with(&plain)).send().await.unwrap());
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
    assert_eq!(param(&back, "state").as_deref(), Some("st"));

    let no_nonce: Vec<_> = good.iter().copied().filter(|(k, _)| *k != "nonce").collect();
    let back = location(&http.get(authorize_with(&no_nonce)).send().await.unwrap());
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));

    let mut no_openid = good;
    no_openid[3].1 = "identite_pivot";
    let back = location(&http.get(authorize_with(&no_openid)).send().await.unwrap());
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_scope"));

    // Token endpoint: wrong secret, wrong verifier.
    let client = rp(&idp, &http).await;
    let auth = authorize(&http, &idp, &client).await;
    let wrong_secret = http
        .post(format!("{base}/token"))
        .basic_auth("relais-hub", Some("nope"))
        .form(&[("grant_type", "authorization_code"), ("code", auth.code.as_str()), ("redirect_uri", REDIRECT)])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_secret.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = wrong_secret.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");

    let wrong_verifier = http
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", auth.code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &"a".repeat(43)),
            ("client_id", "relais-hub"),
            ("client_secret", SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_verifier.status(), StatusCode::BAD_REQUEST);
    assert_eq!(wrong_verifier.headers()["cache-control"], "no-store");
    let body: serde_json::Value = wrong_verifier.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn logout_without_registered_redirect_shows_a_page() {
    let idp = spawn_idp(REDIRECT, POST_LOGOUT).await;
    let http = browser();
    let page = http
        .get(format!("{}/logout?post_logout_redirect_uri=http%3A%2F%2Fevil.example%2F", issuer_of(&idp)))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Vous êtes déconnecté"));
    let missing = http.get(format!("{}/nowhere?x=1", issuer_of(&idp))).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(idp.received_requests().iter().any(|r| r.path == "/nowhere" && r.query == "x=1"));
    let forged = http.get(format!("{}/logout?id_token_hint=a.b.c", issuer_of(&idp))).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
}

#[test]
fn identities_are_the_same_people_written_differently() {
    let even = default_identities("impots", 0);
    let odd = default_identities("ameli", 1);
    assert!(even.len() >= 4);
    assert_eq!(even.len(), odd.len());
    assert_eq!(even[0].given_name, "Angela Claire Louise");
    assert_eq!(even[0].family_name, "DUBOIS");
    assert!(even.iter().all(|p| p.sub.starts_with("impots-")));
    assert!(odd.iter().all(|p| p.sub.starts_with("ameli-")));
    assert!(even.iter().any(|p| p.birthplace.is_empty() && p.birthcountry != "99100" && p.gender == "male"));
    assert!(even.iter().any(|p| p.birthdate.contains("-00")));
    for (a, b) in even.iter().zip(&odd) {
        assert_eq!(a.birthdate, b.birthdate);
        assert_eq!(a.birthplace, b.birthplace);
        assert_ne!((&a.given_name, &a.family_name), (&b.given_name, &b.family_name));
    }
}

/// The demo SP against the mock IdP standing in for the hub.
#[tokio::test]
async fn demo_sp_signs_in_and_out() {
    let sp_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sp_base = format!("http://{}", sp_listener.local_addr().unwrap());
    let idp = spawn_idp(&format!("{sp_base}/callback"), &format!("{sp_base}/deconnecte")).await;
    serve_demo_sp(
        sp_listener,
        DemoSpSettings {
            base_url: url::Url::parse(&sp_base).unwrap(),
            hub_issuer: idp.issuer().clone(),
            client_id: "relais-hub".into(),
            client_secret: SECRET.into(),
            display_name: "Mairie de Démoville".into(),
            scopes: vec!["openid".into(), "identite_pivot".into(), "email".into()],
            caf_api: None,
            desk: None,
        },
    )
    .await
    .unwrap();
    let http = browser();

    let home = http.get(&sp_base).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("S&#x27;identifier avec Relais") || home.contains("S'identifier avec Relais"));
    assert!(home.contains("for=\"acr\">Niveau de garantie demandé</label>"));

    let to_idp = location(&http.get(format!("{sp_base}/connexion?acr=eidas2&idp_hint=impots")).send().await.unwrap());
    assert_eq!(param(&to_idp, "acr_values").as_deref(), Some("eidas2"));
    assert_eq!(param(&to_idp, "idp_hint").as_deref(), Some("impots"));
    assert_eq!(param(&to_idp, "code_challenge_method").as_deref(), Some("S256"));
    let callback = log_in(&http, &idp, to_idp, 0).await;
    assert!(callback.as_str().starts_with(&format!("{sp_base}/callback")));
    let home = location(&http.get(callback).send().await.unwrap());
    assert_eq!(home.path(), "/");
    let page = http.get(home).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("impots-angela-dubois"), "{page}");
    assert!(page.contains("Angela Claire Louise"));
    assert!(page.contains("75107"));
    assert!(page.contains("eidas2"));
    assert!(page.contains("<caption>"));

    let to_logout = location(&http.get(format!("{sp_base}/deconnexion")).send().await.unwrap());
    assert!(to_logout.as_str().starts_with(&format!("{}/logout", issuer_of(&idp))));
    let back = location(&http.get(to_logout).send().await.unwrap());
    assert_eq!(back.path(), "/deconnecte");
    assert_eq!(idp.active_sessions(), 0);
    let bye = http.get(back).send().await.unwrap().text().await.unwrap();
    assert!(bye.contains("Vous êtes déconnecté"));
    let home = http.get(&sp_base).send().await.unwrap().text().await.unwrap();
    assert!(!home.contains("impots-angela-dubois"));
}

#[tokio::test]
async fn demo_sp_shows_errors_in_french() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_hub = url::Url::parse(&format!("http://{}", closed.local_addr().unwrap())).unwrap();
    drop(closed);
    let sp_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sp_base = format!("http://{}", sp_listener.local_addr().unwrap());
    serve_demo_sp(
        sp_listener,
        DemoSpSettings {
            base_url: url::Url::parse(&sp_base).unwrap(),
            hub_issuer: dead_hub,
            client_id: "sp".into(),
            client_secret: "secret".into(),
            display_name: "Mairie de Démoville".into(),
            scopes: vec!["openid".into()],
            caf_api: None,
            desk: None,
        },
    )
    .await
    .unwrap();
    let http = browser();
    let unreachable = http.get(format!("{sp_base}/connexion?acr=eidas1")).send().await.unwrap();
    assert_eq!(unreachable.status(), StatusCode::BAD_GATEWAY);
    assert!(unreachable.text().await.unwrap().contains("lang=\"fr\""));
    let unknown = http.get(format!("{sp_base}/connexion?acr=eidas9")).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let stray = http.get(format!("{sp_base}/callback?error=access_denied&state=x")).send().await.unwrap();
    assert_eq!(stray.status(), StatusCode::BAD_REQUEST);
}
