//! The mock data providers against a tiny fake hub serving `/checktoken` from a fixed
//! table, and the demo SP's family quotient procedure (mock IdP standing in for the hub's
//! authorization server, the fake hub for checktoken). Everything on 127.0.0.1:0.
// Tests stand outside the hub: they may read the system clock and the OS generator.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode as AxumStatus};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use relais_mocks::dp::{DpKind, MockDp, MockDpSettings};
use relais_mocks::idp::{default_identities, Fault, MockIdp, MockIdpSettings};
use relais_mocks::sp::{price_band, serve_demo_sp, DemoSpSettings};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;

/// A DP secret that needs form-encoding in HTTP Basic.
const DP_SECRET: &str = "dp s3cr&t:with%odd+chars";

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// The fake hub's state: DP credentials, the answer table keyed by token, and an answer for
/// any other token (`{"active": false}` when unset).
#[derive(Default)]
struct FakeHubState {
    credentials: HashMap<String, String>,
    answers: Mutex<HashMap<String, Value>>,
    fallback: Mutex<Option<Value>>,
    calls: Mutex<usize>,
}

#[derive(Clone)]
struct FakeHub {
    issuer: url::Url,
    state: Arc<FakeHubState>,
}

impl FakeHub {
    fn answer(&self, token: &str, answer: Value) {
        self.state.answers.lock().unwrap().insert(token.into(), answer);
    }
    fn fallback(&self, answer: Value) {
        *self.state.fallback.lock().unwrap() = Some(answer);
    }
    fn calls(&self) -> usize {
        *self.state.calls.lock().unwrap()
    }
}

fn form_decode(part: &str) -> String {
    url::form_urlencoded::parse(format!("x={part}").as_bytes()).next().unwrap().1.into_owned()
}

/// `POST /checktoken`: RFC 7662 shape, HTTP Basic with form-encoded parts.
async fn checktoken(State(state): State<Arc<FakeHubState>>, headers: HeaderMap, body: String) -> Response {
    *state.calls.lock().unwrap() += 1;
    assert_eq!(headers[header::ACCEPT], "application/json");
    assert_eq!(headers[header::CONTENT_TYPE], "application/x-www-form-urlencoded");
    let credentials = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
        .and_then(|encoded| base64::engine::general_purpose::STANDARD.decode(encoded).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .and_then(|pair| pair.split_once(':').map(|(id, secret)| (form_decode(id), form_decode(secret))));
    let authenticated = credentials.is_some_and(|(id, secret)| state.credentials.get(&id) == Some(&secret));
    if !authenticated {
        return (AxumStatus::UNAUTHORIZED, Json(json!({ "error": "invalid_client" }))).into_response();
    }
    let token = url::form_urlencoded::parse(body.as_bytes())
        .find(|(name, _)| name == "token")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    let known = state.answers.lock().unwrap().get(&token).cloned();
    let answer = known.or_else(|| state.fallback.lock().unwrap().clone()).unwrap_or(json!({ "active": false }));
    Json(answer).into_response()
}

async fn spawn_fake_hub() -> FakeHub {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = url::Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let state = Arc::new(FakeHubState {
        credentials: DpKind::ALL.iter().map(|kind| (kind.id().to_owned(), DP_SECRET.to_owned())).collect(),
        ..FakeHubState::default()
    });
    let app = Router::new().route("/checktoken", post(checktoken)).with_state(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    FakeHub { issuer, state }
}

async fn spawn_dp(kind: DpKind, hub_issuer: &url::Url, secret: &str) -> MockDp {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    MockDp::serve(
        listener,
        MockDpSettings {
            kind,
            hub_issuer: hub_issuer.clone(),
            client_id: kind.id().into(),
            client_secret: secret.into(),
        },
    )
    .await
    .unwrap()
}

/// An active checktoken answer for a person.
fn active(scope: &str, given_name: &str, family_name: &str, birthdate: &str) -> Value {
    json!({
        "active": true,
        "client_id": "demo-mairie",
        "scope": scope,
        "sub": format!("pairwise-{}", family_name.to_lowercase()),
        "iat": now() - 10,
        "exp": now() + 60,
        "identity": {
            "given_name": given_name,
            "family_name": family_name,
            "birthdate": birthdate,
            "gender": "female",
            "birthplace": "",
            "birthcountry": "99100",
        },
    })
}

fn angela(scope: &str) -> Value {
    // Written the "odd" way: the DP normalises.
    active(scope, "angela  claire louise", "Dubois", "1962-08-24")
}

async fn call(dp: &MockDp, token: Option<&str>) -> (StatusCode, HeaderMap, Value) {
    let url = format!("{}{}", dp.base_url().as_str().trim_end_matches('/'), dp.kind().api_path());
    assert_eq!(url, dp.api_url().as_str());
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let mut headers = HeaderMap::new();
    for (name, value) in response.headers() {
        headers.insert(name.as_str().parse::<header::HeaderName>().unwrap(), value.as_bytes().try_into().unwrap());
    }
    (status, headers, response.json().await.unwrap())
}

fn keys(body: &Value) -> BTreeSet<String> {
    body.as_object().unwrap().keys().cloned().collect()
}

fn all_scopes(kind: DpKind) -> String {
    kind.scopes().iter().map(|(scope, _, _)| *scope).collect::<Vec<_>>().join(" ")
}

#[test]
fn kinds_describe_themselves() {
    assert_eq!(DpKind::Impots.id(), "impots-donnees");
    assert_eq!(DpKind::Caf.id(), "caf");
    assert_eq!(DpKind::Adresse.id(), "adresse");
    assert_eq!(DpKind::Caf.name(), "Caisse d'allocations familiales (démo)");
    assert_eq!(DpKind::Caf.api_path(), "/api/quotient-familial");
    assert_eq!(all_scopes(DpKind::Impots), "revenu_fiscal_reference composition_foyer");
    assert_eq!(all_scopes(DpKind::Caf), "quotient_familial enfants");
    assert_eq!(all_scopes(DpKind::Adresse), "adresse_postale");
    assert!(DpKind::ALL
        .iter()
        .flat_map(|kind| kind.scopes())
        .all(|(_, label, description)| { !label.is_empty() && description.len() > 20 }));
}

#[tokio::test]
async fn active_tokens_give_only_the_granted_fields() {
    let hub = spawn_fake_hub().await;
    for kind in DpKind::ALL {
        let dp = spawn_dp(kind, &hub.issuer, DP_SECRET).await;
        // Every scope of this DP (and one of another DP, which it ignores).
        hub.answer("all", angela(&format!("{} other_scope", all_scopes(kind))));
        let (status, headers, body) = call(&dp, Some("all")).await;
        assert_eq!(status, StatusCode::OK, "{kind:?}: {body}");
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        let mut expected: BTreeSet<String> = kind.scopes().iter().map(|(scope, _, _)| (*scope).to_owned()).collect();
        expected.insert("sub".into());
        assert_eq!(keys(&body), expected, "{kind:?}");
        assert_eq!(body["sub"], "pairwise-dubois");
        match kind {
            DpKind::Impots => {
                assert_eq!(body["revenu_fiscal_reference"], 31_420);
                assert_eq!(body["composition_foyer"], json!({ "nombre_parts": 3.0, "personnes": 4 }));
            }
            DpKind::Caf => {
                assert_eq!(body["quotient_familial"], 742);
                assert_eq!(body["enfants"].as_array().unwrap().len(), 2);
                assert_eq!(body["enfants"][1], json!({ "prenom": "Léa", "date_naissance": "2011-09-30" }));
            }
            DpKind::Adresse => {
                assert_eq!(
                    body["adresse_postale"],
                    json!({ "numero_voie": "12 rue des Lilas", "code_postal": "75007", "commune": "Paris" })
                );
            }
        }
        // Only the first scope of this DP, mixed with the other DPs' scopes: filtered.
        let first = kind.scopes()[0].0;
        let others: Vec<&str> = DpKind::ALL
            .iter()
            .filter(|other| **other != kind)
            .flat_map(|other| other.scopes().iter().map(|(scope, _, _)| *scope))
            .collect();
        hub.answer("one", angela(&format!("{} {first}", others.join(" "))));
        let (status, _, body) = call(&dp, Some("one")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(keys(&body), BTreeSet::from(["sub".to_owned(), first.to_owned()]), "{kind:?}");
        // Only other DPs' scopes: nothing for this DP.
        hub.answer("others", angela(&others.join(" ")));
        let (status, headers, body) = call(&dp, Some("others")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{kind:?}");
        assert_eq!(body, json!({ "error": "invalid_token" }));
        assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer error=\"invalid_token\"");
        // Every answer was recorded.
        let answers = dp.checktoken_answers();
        assert_eq!(answers.len(), 3);
        assert_eq!(answers[0]["active"], true);
    }
}

#[tokio::test]
async fn each_person_has_different_data_in_any_spelling() {
    let hub = spawn_fake_hub().await;
    let caf = spawn_dp(DpKind::Caf, &hub.issuer, DP_SECRET).await;
    let impots = spawn_dp(DpKind::Impots, &hub.issuer, DP_SECRET).await;
    let expected = [(742, 2, 31_420), (1450, 0, 58_900), (412, 3, 14_250), (980, 1, 24_800)];
    for variant in 0..2u8 {
        for (person, (qf, children, rfr)) in default_identities("x", variant).iter().zip(expected) {
            let token = format!("{variant}-{}", person.sub);
            let mut answer = active(
                "quotient_familial enfants revenu_fiscal_reference",
                &person.given_name,
                &person.family_name,
                &person.birthdate,
            );
            answer["identity"]["gender"] = json!(person.gender);
            hub.answer(&token, answer);
            let (status, _, body) = call(&caf, Some(&token)).await;
            assert_eq!(status, StatusCode::OK, "{person:?}");
            assert_eq!(body["quotient_familial"], qf, "{person:?}");
            assert_eq!(body["enfants"].as_array().unwrap().len(), children);
            let (status, _, body) = call(&impots, Some(&token)).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(keys(&body), BTreeSet::from(["sub".to_owned(), "revenu_fiscal_reference".to_owned()]));
            assert_eq!(body["revenu_fiscal_reference"], rfr);
        }
    }
}

#[tokio::test]
async fn inactive_expired_or_missing_tokens_are_refused() {
    let hub = spawn_fake_hub().await;
    let dp = spawn_dp(DpKind::Caf, &hub.issuer, DP_SECRET).await;
    hub.answer("inactive", json!({ "active": false }));
    let mut expired = angela("quotient_familial");
    expired["exp"] = json!(now() - 1);
    hub.answer("expired", expired);
    for token in ["inactive", "unknown-token", "expired"] {
        let (status, headers, body) = call(&dp, Some(token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token}");
        assert_eq!(body, json!({ "error": "invalid_token" }));
        assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer error=\"invalid_token\"");
    }
    assert_eq!(hub.calls(), 3);
    let (status, headers, _) = call(&dp, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
    assert_eq!(hub.calls(), 3, "no token, no checktoken call");
}

/// Wrong DP credentials at the hub are the DP's misconfiguration, not a fault of the SP's
/// token: the DP answers `502` (not `401 invalid_token`).
#[tokio::test]
async fn wrong_dp_secret_or_unreachable_hub_gives_502() {
    let hub = spawn_fake_hub().await;
    hub.answer("good", angela("quotient_familial"));
    let dp = spawn_dp(DpKind::Caf, &hub.issuer, "not-the-secret").await;
    let (status, _, body) = call(&dp, Some("good")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(body["error"], "checktoken_failed");
    assert_eq!(dp.checktoken_answers(), vec![json!({ "error": "invalid_client" })]);

    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_hub = url::Url::parse(&format!("http://{}", closed.local_addr().unwrap())).unwrap();
    drop(closed);
    let dp = spawn_dp(DpKind::Impots, &dead_hub, DP_SECRET).await;
    let (status, _, body) = call(&dp, Some("good")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(body["error"], "checktoken_failed");
    assert!(dp.checktoken_answers().is_empty());
}

#[tokio::test]
async fn unknown_person_is_not_found() {
    let hub = spawn_fake_hub().await;
    hub.answer("stranger", active("adresse_postale", "Jean", "MARTIN", "1970-01-01"));
    // Same names as Angela, another birthdate: another person.
    hub.answer("homonym", active("adresse_postale", "Angela", "DUBOIS", "1962-08-25"));
    let dp = spawn_dp(DpKind::Adresse, &hub.issuer, DP_SECRET).await;
    for token in ["stranger", "homonym"] {
        let (status, _, body) = call(&dp, Some(token)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{token}");
        assert_eq!(body, json!({ "error": "not_found" }));
    }
}

#[test]
fn price_bands_follow_the_family_quotient() {
    assert_eq!(price_band(0), "Tranche A : 1,00 € le repas");
    assert_eq!(price_band(500), "Tranche A : 1,00 € le repas");
    assert_eq!(price_band(501), "Tranche B : 2,10 € le repas");
    assert_eq!(price_band(800), "Tranche B : 2,10 € le repas");
    assert_eq!(price_band(801), "Tranche C : 3,30 € le repas");
    assert_eq!(price_band(1200), "Tranche C : 3,30 € le repas");
    assert_eq!(price_band(1201), "Tranche D : 4,50 € le repas");
    assert_eq!(price_band(-5), "Tranche A : 1,00 € le repas");
}

// --- The demo SP's family quotient procedure ---------------------------------------------

const SP_SECRET: &str = "sp-secret";

fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap()
}

fn location(response: &reqwest::Response) -> url::Url {
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "expected a 303 from {}", response.url());
    let location = response.headers()[reqwest::header::LOCATION].to_str().unwrap();
    response.url().join(location).unwrap()
}

fn unescape(value: &str) -> String {
    value.replace("&quot;", "\"").replace("&#x27;", "'").replace("&#x2f;", "/").replace("&amp;", "&")
}

/// A demo SP whose "hub" is a mock IdP, with the CAF API at `caf_api`.
async fn spawn_sp(caf_api: Option<url::Url>) -> (String, MockIdp) {
    let sp_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sp_base = format!("http://{}", sp_listener.local_addr().unwrap());
    let idp_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = url::Url::parse(&format!("http://{}", idp_listener.local_addr().unwrap())).unwrap();
    let idp = MockIdp::serve(
        idp_listener,
        MockIdpSettings {
            id: "hub".into(),
            display_name: "Relais (simulé)".into(),
            issuer,
            client_id: "demo-mairie".into(),
            client_secret: SP_SECRET.into(),
            redirect_uris: vec![format!("{sp_base}/callback")],
            post_logout_redirect_uris: vec![format!("{sp_base}/deconnecte")],
            acr: "eidas1".into(),
            identities: default_identities("hub", 0),
        },
    )
    .await
    .unwrap();
    serve_demo_sp(
        sp_listener,
        DemoSpSettings {
            base_url: url::Url::parse(&sp_base).unwrap(),
            hub_issuer: idp.issuer().clone(),
            client_id: "demo-mairie".into(),
            client_secret: SP_SECRET.into(),
            display_name: "Mairie de Démoville".into(),
            scopes: vec!["openid".into(), "identite_pivot".into()],
            caf_api,
            desk: None,
        },
    )
    .await
    .unwrap();
    (sp_base, idp)
}

/// Runs the family quotient procedure as Angela; returns the authorization URL and the page.
async fn quotient_procedure(sp_base: &str, idp: &MockIdp) -> (url::Url, String) {
    let http = browser();
    let home = http.get(sp_base).send().await.unwrap().text().await.unwrap();
    assert_eq!(home.matches("<h1>").count(), 1);
    assert!(home.contains("<h2 id=\"cantine\">Tarif de la cantine scolaire</h2>"));
    assert!(home.contains("<input type=\"hidden\" name=\"procedure\" value=\"quotient\">"));
    assert!(home.contains("Calculer mon tarif avec Relais"));
    let to_hub = location(&http.get(format!("{sp_base}/connexion?procedure=quotient")).send().await.unwrap());
    let login = http.get(to_hub.clone()).send().await.unwrap().text().await.unwrap();
    let mut form: Vec<(String, String)> = login
        .split("<input type=\"hidden\" ")
        .skip(1)
        .map(|input| {
            let field = |attr: &str| unescape(input.split(attr).nth(1).unwrap().split('"').next().unwrap());
            (field("name=\""), field("value=\""))
        })
        .collect();
    form.push(("identity".into(), "0".into()));
    let issuer = idp.issuer().as_str().trim_end_matches('/');
    let callback = location(&http.post(format!("{issuer}/authorize/login")).form(&form).send().await.unwrap());
    let home = location(&http.get(callback).send().await.unwrap());
    let page = http.get(home).send().await.unwrap().text().await.unwrap();
    (to_hub, unescape(&page))
}

#[tokio::test]
async fn demo_sp_computes_the_canteen_price_from_the_caf() {
    let hub = spawn_fake_hub().await;
    // The SP's access token is issued by the mock IdP: any token is Angela's here.
    hub.fallback(angela("quotient_familial enfants"));
    let caf = spawn_dp(DpKind::Caf, &hub.issuer, DP_SECRET).await;
    let (sp_base, idp) = spawn_sp(Some(caf.api_url())).await;
    let (to_hub, page) = quotient_procedure(&sp_base, &idp).await;
    let scope = to_hub.query_pairs().find(|(name, _)| name == "scope").unwrap().1.into_owned();
    assert_eq!(
        scope.split(' ').collect::<BTreeSet<_>>(),
        BTreeSet::from(["openid", "identite_pivot", "quotient_familial", "enfants"])
    );
    assert_eq!(page.matches("<h1>").count(), 1);
    assert!(page.contains("Votre tarif"), "{page}");
    assert!(page.contains("742"));
    assert!(page.contains("Tranche B : 2,10 € le repas"));
    assert!(page.contains(
        "Aucun justificatif n'a été demandé : le quotient familial a été transmis par la CAF avec votre accord."
    ));
    assert!(page.contains("<caption>Enfants à charge transmis par la CAF</caption>"));
    assert!(page.contains("Léa"));
    assert_eq!(caf.checktoken_answers().len(), 1);
    // The SP called the CAF with the access token the "hub" issued.
    assert_eq!(hub.calls(), 1);
}

#[tokio::test]
async fn demo_sp_without_consent_applies_the_maximum_price() {
    let hub = spawn_fake_hub().await;
    hub.fallback(angela("quotient_familial enfants"));
    let caf = spawn_dp(DpKind::Caf, &hub.issuer, DP_SECRET).await;
    let (sp_base, idp) = spawn_sp(Some(caf.api_url())).await;
    idp.set_fault(Fault::WithholdScopes(vec!["quotient_familial".into(), "enfants".into()]));
    let (_, page) = quotient_procedure(&sp_base, &idp).await;
    assert!(page.contains("Vous êtes identifié"), "{page}");
    assert!(page.contains("Vous n'avez pas autorisé la transmission de votre quotient familial"));
    assert!(page.contains("le tarif maximal s'applique"));
    assert!(!page.contains("Tranche"));
    assert_eq!(hub.calls(), 0, "no consent, no call to the CAF");
}

#[tokio::test]
async fn demo_sp_explains_a_caf_failure_in_french() {
    // The CAF is down.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_caf = url::Url::parse(&format!("http://{}/api/quotient-familial", closed.local_addr().unwrap())).unwrap();
    drop(closed);
    let (sp_base, idp) = spawn_sp(Some(dead_caf)).await;
    let (_, page) = quotient_procedure(&sp_base, &idp).await;
    assert!(page.contains("role=\"alert\""), "{page}");
    assert!(page.contains("Votre tarif n'a pas pu être calculé"));
    assert!(page.contains("n'a pas pu être joint"));
    assert!(!page.contains("refused") && !page.contains("reqwest"), "no technical detail: {page}");

    // The hub says the token is inactive: the CAF refuses it.
    let hub = spawn_fake_hub().await;
    let caf = spawn_dp(DpKind::Caf, &hub.issuer, DP_SECRET).await;
    let (sp_base, idp) = spawn_sp(Some(caf.api_url())).await;
    let (_, page) = quotient_procedure(&sp_base, &idp).await;
    assert!(page.contains("n'a pas accepté l'autorisation transmise"), "{page}");
    assert_eq!(caf.checktoken_answers(), vec![json!({ "active": false })]);
}
