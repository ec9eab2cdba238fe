//! The person concerned by an agent's request (issue 12): a person files a request at the
//! town's citizen service (`sp-a`, the `openidconnect` crate), whose sign-in gives it a sealed
//! person reference; an agent of the town instructs the file at the back-office (`sp-agent`)
//! and exchanges the reference with their own token for a token about that person (RFC 8693);
//! the CAF finds the person's record as in a citizen transfer and sees the agent and the
//! habilitation; the person's dashboard says which administration looked, and a second person's
//! does not.

use openidconnect::AuthType;
use relais_domain::agent::reference::{ACCESS_TOKEN_TYPE, PERSON_REFERENCE_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT_TYPE};
use serde_json::Value;

use crate::harness::*;

const SECRET_B: &str = "secret-b-for-tests-0123456789abcdef";

/// Person `identity` of the tax office's accounts files a request at `sp`: the reference it got.
async fn file_request(platform: &Platform, sp: &Sp, scopes: &[&str], identity: usize) -> String {
    let signed_in = sign_in(platform, &Browser::new(), sp, scopes, "impots", identity).await;
    let userinfo: Value = reqwest::Client::new()
        .get(platform.url("/userinfo"))
        .bearer_auth(&signed_in.access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reference = userinfo["person_reference"].as_str().expect("a person reference").to_owned();
    assert!(reference.starts_with("sealed:v1:"), "{reference}");
    assert!(!reference.contains("Angela") && !reference.contains("DUBOIS"), "sealed, not readable");
    let id_token = jwt_payload(&signed_in.id_token);
    assert_eq!(id_token["person_reference"], reference.as_str(), "in the ID token too");
    reference
}

/// Jeanne Moreau, agent of the town, signs in to the back-office asking for `scopes`: her token.
async fn agent_token(platform: &Platform, scopes: &[&str]) -> String {
    let sp = Sp::discover_at(&platform.agents_issuer(), BACK_OFFICE.0, Some(BACK_OFFICE.1), AuthType::BasicAuth).await;
    let browser = Browser::new();
    let request = sp.request(scopes, None, &[("idp_hint", "mairie")]);
    let redirect = at_idp(&browser, &location(&browser.get(&request.url).await), 0).await;
    sp.finish(request, &redirect).await.unwrap().access_token
}

/// The token exchange at `token_endpoint` by the back-office: the hub's status and answer.
async fn exchange(token_endpoint: &str, reference: &str, actor: &str, scope: Option<&str>) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", TOKEN_EXCHANGE_GRANT_TYPE),
        ("subject_token", reference),
        ("subject_token_type", PERSON_REFERENCE_TOKEN_TYPE),
        ("actor_token", actor),
        ("actor_token_type", ACCESS_TOKEN_TYPE),
    ];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    let answer = reqwest::Client::new()
        .post(token_endpoint)
        .basic_auth(BACK_OFFICE.0, Some(BACK_OFFICE.1))
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap())
}

#[tokio::test]
async fn an_agent_instructs_a_file_the_provider_finds_the_person_and_only_that_person_sees_the_town() {
    let platform = Platform::start().await;
    let sp_a = Sp::discover(&platform, "sp-a", Some(SECRET_A), AuthType::BasicAuth).await;
    let discovery: Value = reqwest::get(format!("{}/.well-known/openid-configuration", platform.agents_issuer()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(discovery["grant_types_supported"].as_array().unwrap().iter().any(|g| g == TOKEN_EXCHANGE_GRANT_TYPE));
    let token_endpoint = discovery["token_endpoint"].as_str().unwrap().to_owned();

    let reference = file_request(&platform, &sp_a, &["openid", "identite_pivot", "person_reference"], 0).await;
    let actor = agent_token(&platform, &["openid", "uid", "quotient_familial"]).await;
    let (status, answer) = exchange(&token_endpoint, &reference, &actor, Some("quotient_familial")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["issued_token_type"], ACCESS_TOKEN_TYPE);
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["scope"], "quotient_familial");
    let about_angela = answer["access_token"].as_str().unwrap().to_owned();

    // The CAF's own API, called by the back-office with that token, finds Angela's record.
    let caf = platform.dps.iter().find(|dp| dp.kind() == relais_mocks::dp::DpKind::Caf).unwrap();
    let record: Value = reqwest::Client::new()
        .get(caf.api_url())
        .bearer_auth(&about_angela)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(record["quotient_familial"].as_i64().is_some(), "{record}");
    // What the CAF learnt: the person as in a citizen transfer, the agent, the habilitation.
    let seen = platform.checktoken("caf", &about_angela).await;
    assert_eq!(seen["active"], true, "{seen}");
    assert_eq!(seen["client_id"], "sp-agent");
    assert_eq!(seen["identity"]["given_name"], "Angela Claire Louise");
    assert_eq!(seen["identity"]["family_name"], "DUBOIS");
    assert!(seen["sub"].as_str().unwrap().ends_with("v1"));
    assert_eq!(seen["agent"]["uid"], "jmoreau");
    assert_eq!(seen["agent"]["organization"]["siret"], "21750001600019");
    assert_eq!(seen["agent"]["habilitations"][0]["id"], "hab-cantine-qf");
    // The same person's `sub` at the CAF as when she gives her consent herself.
    let consented = checktoken_sub_of_a_citizen_transfer(&platform, &sp_a).await;
    assert_eq!(seen["sub"], consented.as_str(), "the CAF learns nothing new about her");
    // The agent's own token still names nobody; another provider sees nothing.
    assert!(platform.checktoken("caf", &actor).await.get("identity").is_none());
    assert_eq!(platform.checktoken("impots-donnees", &about_angela).await, serde_json::json!({"active": false}));

    // The hub kept the access under Angela's key, with the town and the habilitation, no agent.
    let traces = platform.state_traces().await;
    let access = traces
        .iter()
        .find(|r| r.event.organisation.is_some() && r.event.outcome == "active")
        .expect("the access is traced");
    assert_eq!(access.event.habilitation.as_deref(), Some("hab-cantine-qf"));
    assert_eq!(access.event.organisation.as_deref(), Some("21750001600019"));
    let angela_sign_in = traces.iter().find(|r| r.event.sp.as_deref() == Some("sp-a")).unwrap();
    assert_eq!(access.event.person, angela_sign_in.event.person, "keyed as her other traces");
    let stored = serde_json::to_string(&access.event).unwrap();
    assert!(!stored.contains("jmoreau") && !stored.contains("Moreau") && !stored.contains("demoville.fr"), "{stored}");

    // Angela's dashboard says which administration looked, at what, under which text.
    let mine = dashboard(&platform, &Browser::new(), "impots", 0).await;
    let accesses = section(&mine, "Les administrations qui ont consulté mes données");
    assert!(accesses.contains("Commune de Démoville"), "{accesses}");
    assert!(accesses.contains("Quotient familial") && accesses.contains("Caisse"), "{accesses}");
    assert!(accesses.contains("Article L. 114-8"), "{accesses}");
    assert!(accesses.contains("LEGIARTI000043346953\"") && accesses.contains("<a href="), "{accesses}");
    assert!(!mine.contains("Moreau") && !mine.contains("Jeanne") && !mine.contains("jmoreau"), "no agent's name");
    // Kenji's does not.
    let his = dashboard(&platform, &Browser::new(), "impots", 1).await;
    assert!(!his.contains("Commune de Démoville"), "a second person sees nothing of it");
    let nothing = section(&his, "Les administrations qui ont consulté mes données");
    assert!(nothing.contains("Aucune administration") && !nothing.contains("<table"), "{nothing}");
}

/// Angela consents at `sp-a` to the CAF sending her family quotient: the `sub` the CAF gets.
async fn checktoken_sub_of_a_citizen_transfer(platform: &Platform, sp_a: &Sp) -> String {
    let browser = Browser::new();
    let request = sp_a.request(&["openid", "quotient_familial"], None, &[]);
    let html = browser.get(&request.url).await.text().await.unwrap();
    let to_consent = through_choice(&browser, platform, &html, "impots", 0).await;
    let form = [("decision".into(), "accepter".into()), ("transfert".into(), "caf:quotient_familial".into())];
    let redirect = location(&browser.post(platform.url(&to_consent).as_str(), &form).await);
    let signed_in = sp_a.finish(request, &redirect).await.unwrap();
    platform.checktoken("caf", &signed_in.access_token).await["sub"].as_str().unwrap().to_owned()
}

/// The part of `html` from the heading `heading` to the next `<h2`.
fn section<'a>(html: &'a str, heading: &str) -> &'a str {
    let start = html.find(heading).unwrap_or_else(|| panic!("no section {heading}"));
    let rest = &html[start..];
    &rest[..rest[1..].find("<h2").map_or(rest.len(), |end| end + 1)]
}

#[tokio::test]
async fn an_exchange_is_refused_for_another_services_file_a_forged_reference_or_a_token_not_the_agents() {
    let platform = Platform::start().await;
    let sp_a = Sp::discover(&platform, "sp-a", Some(SECRET_A), AuthType::BasicAuth).await;
    let sp_b = Sp::discover(&platform, "sp-b", Some(SECRET_B), AuthType::RequestBody).await;
    let token_endpoint = format!("{}/token", platform.agents_issuer());
    let reference = file_request(&platform, &sp_a, &["openid", "identite_pivot", "person_reference"], 0).await;
    let actor = agent_token(&platform, &["openid", "uid", "quotient_familial"]).await;

    // A file of a service the town's habilitation does not instruct.
    let elsewhere = file_request(&platform, &sp_b, &["openid", "given_name", "person_reference"], 1).await;
    let (status, answer) = exchange(&token_endpoint, &elsewhere, &actor, Some("quotient_familial")).await;
    assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_scope")), "{answer}");
    let description = answer["error_description"].as_str().unwrap();
    assert!(description.contains("sp-b") && description.contains("citizen_services"), "{description}");

    // A reference altered by one character, or not sealed by this hub.
    let mut forged = reference.clone().into_bytes();
    let last = forged.len() - 2;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    for subject in [String::from_utf8(forged).unwrap(), "sealed:v1:AAAA".to_owned(), "Angela DUBOIS".to_owned()] {
        let (status, answer) = exchange(&token_endpoint, &subject, &actor, None).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_grant")), "{answer}");
    }

    // A scope the agent's token was not granted, then no habilitation of the token.
    let (_, answer) = exchange(&token_endpoint, &reference, &actor, Some("enfants")).await;
    assert_eq!(answer["error"], "invalid_scope", "{answer}");
    let without_data = agent_token(&platform, &["openid", "uid"]).await;
    let (_, answer) = exchange(&token_endpoint, &reference, &without_data, None).await;
    assert_eq!(answer["error"], "invalid_grant", "{answer}");

    // The citizen's own token is not an agent's; an exchanged token cannot be exchanged again.
    let citizen = sign_in(&platform, &Browser::new(), &sp_a, &["openid"], "impots", 0).await;
    let (_, answer) = exchange(&token_endpoint, &reference, &citizen.access_token, None).await;
    assert_eq!(answer["error"], "invalid_grant", "{answer}");
    let (status, answer) = exchange(&token_endpoint, &reference, &actor, None).await;
    assert_eq!(status, 200, "no scope: every data scope of the agent's token ({answer})");
    let exchanged = answer["access_token"].as_str().unwrap();
    let (_, answer) = exchange(&token_endpoint, &reference, exchanged, None).await;
    assert_eq!(answer["error"], "invalid_grant", "{answer}");

    // The citizen federation's token endpoint knows no agent service.
    let (status, answer) = exchange(&format!("{}/token", platform.issuer), &reference, &actor, None).await;
    assert_eq!((status, answer["error"].as_str()), (401, Some("invalid_client")), "{answer}");

    // A reference past its lifetime.
    platform.clock.advance(platform.config().settings.person_reference_lifetime);
    let fresh_actor = agent_token(&platform, &["openid", "uid", "quotient_familial"]).await;
    let (_, answer) = exchange(&token_endpoint, &reference, &fresh_actor, None).await;
    assert_eq!(answer["error"], "invalid_grant", "{answer}");
    assert!(answer["error_description"].as_str().unwrap().contains("expired"), "{answer}");
}
