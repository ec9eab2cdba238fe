//! The public catalogue (issue 13, first step), read over HTTP from the test platform: each
//! data provider with its data, the citizen services that receive it with the person's
//! consent, the live habilitations with their legal bases; open data, nothing secret.

use serde_json::Value;

use crate::harness::*;

#[tokio::test]
async fn the_catalogue_lists_the_providers_their_services_and_live_habilitations_as_open_data() {
    let platform = Platform::start().await;
    let response = reqwest::get(platform.url("/catalogue.json")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], "*", "open data: any site may read it");
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    assert_eq!(response.headers()["link"], "</catalogue.schema.json>; rel=\"describedby\"");
    let text = response.text().await.unwrap();
    let schema = reqwest::get(platform.url("/catalogue.schema.json")).await.unwrap();
    assert_eq!(schema.headers()["content-type"], "application/schema+json");
    let schema: Value = schema.json().await.unwrap();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert!(!text.contains("secret") && !text.contains("dp-secret"), "nothing secret: {text}");
    let catalogue: Value = serde_json::from_str(&text).unwrap();
    let providers = catalogue["providers"].as_array().unwrap();
    assert_eq!(providers.len(), 3, "{catalogue}");
    let caf = providers.iter().find(|p| p["id"] == "caf").unwrap();
    let scopes: Vec<&str> = caf["scopes"].as_array().unwrap().iter().map(|s| s["scope"].as_str().unwrap()).collect();
    assert!(scopes.contains(&"quotient_familial") && scopes.contains(&"enfants"), "{caf}");
    assert_eq!(caf["with_person_sign_in"], true);
    assert_eq!(caf["services"][0]["name"], "Mairie A");
    // The live habilitation, not the one that ended in 2020; agent services are not listed.
    let habilitations = caf["habilitations"].as_array().unwrap();
    assert_eq!(habilitations.len(), 1, "{caf}");
    assert_eq!(habilitations[0]["id"], "hab-cantine-qf");
    assert_eq!(habilitations[0]["organisation"], "217500016");
    assert!(habilitations[0]["legal_basis"].as_str().unwrap().starts_with("Article L. 114-8"));
    assert!(!text.contains("Back-office de la mairie"), "{text}");

    let page = reqwest::get(platform.url("/catalogue")).await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Catalogue des données") && html.contains("Mairie A"), "{html}");
    assert!(html.contains("Tarification de la cantine scolaire") && html.contains("217500016"), "{html}");
}

/// The CAF's figures in the catalogue's JSON.
async fn caf_figures(platform: &Platform) -> (u64, u64) {
    let catalogue: Value = reqwest::get(platform.url("/catalogue.json")).await.unwrap().json().await.unwrap();
    let caf = catalogue["providers"].as_array().unwrap().iter().find(|p| p["id"] == "caf").unwrap().clone();
    (caf["figures"]["transfers"].as_u64().unwrap(), caf["figures"]["documents_avoided"].as_u64().unwrap())
}

#[tokio::test]
async fn the_catalogues_figures_count_the_transfers_and_the_documents_people_did_not_send() {
    use openidconnect::AuthType;
    use relais_mocks::dp::DpKind;
    let platform = Platform::start().await;
    assert_eq!(caf_figures(&platform).await, (0, 0));
    let sp = Sp::discover(&platform, "sp-a", Some(SECRET_A), AuthType::BasicAuth).await;
    let browser = Browser::new();
    let (request, url, _) = up_to_consent(&platform, &browser, &sp, &["openid", "quotient_familial"], 0).await;
    let signed_in =
        answer(&sp, &browser, request, &url, &[("decision", "accepter"), ("transfert", "caf:quotient_familial")]).await;
    // The service asks twice for the same person: two transfers, one document not sent.
    for _ in 0..2 {
        assert_eq!(call_dp(&platform, DpKind::Caf, &signed_in.access_token).await.0, 200);
    }
    // Counted once a minute per node: the same figures for a minute, then the new ones.
    assert_eq!(caf_figures(&platform).await, (0, 0));
    platform.clock.advance(61);
    assert_eq!(caf_figures(&platform).await, (2, 1));
    let html = reqwest::get(platform.url("/catalogue")).await.unwrap().text().await.unwrap();
    assert!(
        html.contains("Transmissions de données à un service : 2") && html.contains("n&#x27;ont pas eu à fournir : 1"),
        "{html}"
    );
    // 30 days on, they are out of the period.
    platform.clock.advance(30 * 24 * 3600);
    assert_eq!(caf_figures(&platform).await, (0, 0));
}

#[tokio::test]
async fn a_providers_page_says_who_may_ask_its_rate_limit_and_renders_its_openapi_description() {
    use relais_mocks::dp::DpKind;
    let platform = Platform::start().await;
    let catalogue: Value = reqwest::get(platform.url("/catalogue.json")).await.unwrap().json().await.unwrap();
    let providers = catalogue["providers"].as_array().unwrap();
    let caf = providers.iter().find(|p| p["id"] == "caf").unwrap();
    assert_eq!(caf["rate_limit_per_minute"], 600);
    assert!(caf["eligibility"].as_str().unwrap().contains("quotient familial"), "{caf}");
    assert_eq!(caf["openapi_url"], "/catalogue/caf/openapi.json");
    let impots = providers.iter().find(|p| p["id"] == "impots-donnees").unwrap();
    assert!(impots["openapi_url"].is_null() && impots["rate_limit_per_minute"].is_null(), "{impots}");

    // Its page: the operation of its API, its parameter and its answers.
    let page = reqwest::get(platform.url("/catalogue/caf")).await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<h1>Caisse d&#x27;allocations familiales (démo)</h1>"), "{html}");
    assert!(html.contains("<code>GET &#x2f;api&#x2f;quotient-familial</code>"), "{html}");
    assert!(html.contains("<code>Authorization</code>") && html.contains("Jeton absent, expiré"), "{html}");
    assert!(html.contains("600 par minute"), "{html}");
    // The document as the provider gave it, open data; a provider without one, an unknown one.
    let document = reqwest::get(platform.url("/catalogue/caf/openapi.json")).await.unwrap();
    assert_eq!(document.headers()["access-control-allow-origin"], "*");
    let document: Value = document.json().await.unwrap();
    assert_eq!(document, serde_json::from_str::<Value>(&DpKind::Caf.openapi()).unwrap());
    let none = reqwest::get(platform.url("/catalogue/impots-donnees")).await.unwrap().text().await.unwrap();
    assert!(none.contains("ne publie pas de description OpenAPI"), "{none}");
    assert_eq!(reqwest::get(platform.url("/catalogue/impots-donnees/openapi.json")).await.unwrap().status(), 404);
    assert_eq!(reqwest::get(platform.url("/catalogue/nulle-part")).await.unwrap().status(), 404);
    let english = reqwest::Client::new()
        .get(platform.url("/catalogue/caf"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(english.contains("Rate limit: 600 per minute") && english.contains("Responses:"), "{english}");
}

#[tokio::test]
async fn a_provider_checked_each_minute_has_its_availability_in_the_catalogue() {
    let platform = Platform::start().await;
    // Two minutes checked: the CAF answers, the tax office's address does not; the address
    // base gives no status_url and has no availability.
    platform.state.check_providers().await.unwrap();
    platform.state.check_providers().await.unwrap(); // the same minute: kept once
    platform.clock.advance(60);
    platform.state.check_providers().await.unwrap();
    platform.clock.advance(61);
    let catalogue: Value = reqwest::get(platform.url("/catalogue.json")).await.unwrap().json().await.unwrap();
    let of = |id: &str| catalogue["providers"].as_array().unwrap().iter().find(|p| p["id"] == id).unwrap().clone();
    assert_eq!(of("caf")["availability"], serde_json::json!({ "checks": 2, "answered": 2 }));
    assert_eq!(of("impots-donnees")["availability"], serde_json::json!({ "checks": 2, "answered": 0 }));
    assert!(of("adresse")["availability"].is_null());
    let html = reqwest::get(platform.url("/catalogue")).await.unwrap().text().await.unwrap();
    assert!(
        html.contains("Disponibilité : 100 % des 2 vérifications") && html.contains("Disponibilité : 0 %"),
        "{html}"
    );
    // Out of the 30 days, forgotten.
    platform.clock.advance(31 * 24 * 3600);
    let catalogue: Value = reqwest::get(platform.url("/catalogue.json")).await.unwrap().json().await.unwrap();
    let caf = catalogue["providers"].as_array().unwrap().iter().find(|p| p["id"] == "caf").unwrap().clone();
    assert_eq!(caf["availability"], serde_json::json!({ "checks": 0, "answered": 0 }));
}
