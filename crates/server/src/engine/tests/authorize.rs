//! Step 1 and its refusals, single sign-on included.

use super::*;
use crate::engine::{authorize as step, Next};

#[tokio::test]
async fn a_valid_request_shows_the_eligible_idps_the_last_used_first() {
    let hub = TestHub::new();
    let mut browser = browser();
    browser.last_idp = Some("ameli".into());
    let outcome = step(&hub.state, &request("mairie", "openid"), &browser).await.unwrap();
    match outcome.next {
        Next::Choice { idps, service, .. } => {
            assert_eq!(service, "Mairie");
            let ids: Vec<_> = idps.iter().map(|i| i.id.as_str()).collect();
            assert_eq!(ids, ["ameli", "impots", "panne"], "the disabled one is not offered");
            assert!(idps[0].last_used);
        }
        _ => panic!("the choice page"),
    }
}

#[tokio::test]
async fn an_unknown_or_missing_client_gets_a_page_not_a_redirect() {
    let hub = TestHub::new();
    let page = page_of(step(&hub.state, &request("inconnu", "openid"), &browser()).await);
    assert_eq!(page, ErrorPage::UnknownService);
    let mut raw = request("mairie", "openid");
    raw.client_id = None;
    assert_eq!(page_of(step(&hub.state, &raw, &browser()).await), ErrorPage::UnknownService);
}

#[tokio::test]
async fn an_unregistered_redirect_uri_gets_a_page_not_a_redirect() {
    let hub = TestHub::new();
    let mut raw = request("mairie", "openid");
    raw.redirect_uri = Some("https://attacker.example/cb".into());
    assert_eq!(page_of(step(&hub.state, &raw, &browser()).await), ErrorPage::UnregisteredRedirect);
}

#[tokio::test]
async fn a_request_without_nonce_is_sent_back_with_its_state_and_the_issuer() {
    let mut hub = TestHub::new();
    let mut raw = request("mairie", "openid");
    raw.nonce = None;
    let (error, url) = error_sent_back(step(&hub.state, &raw, &browser()).await);
    assert_eq!(error, "invalid_request");
    assert_eq!(param(url.as_str(), "state").as_deref(), Some("sp-state"));
    assert_eq!(param(url.as_str(), "iss").as_deref(), Some(ISSUER));
    assert!(url.as_str().starts_with("https://mairie.example/cb?"));
    assert_eq!(hub.emitted(), [("authorization_asked".into(), "invalid_request".into())]);
}

#[tokio::test]
async fn another_response_type_is_unsupported() {
    let hub = TestHub::new();
    let mut raw = request("mairie", "openid");
    raw.response_type = Some("token".into());
    assert_eq!(error_sent_back(step(&hub.state, &raw, &browser()).await).0, "unsupported_response_type");
}

#[tokio::test]
async fn a_public_client_must_use_pkce() {
    let hub = TestHub::new();
    let mut raw = request("appli", "openid");
    raw.code_challenge = None;
    raw.code_challenge_method = None;
    assert_eq!(error_sent_back(step(&hub.state, &raw, &browser()).await).0, "invalid_request");
}

#[tokio::test]
async fn a_forged_id_token_hint_is_refused() {
    let hub = TestHub::new();
    let mut raw = request("mairie", "openid");
    raw.id_token_hint = Some("eyJhbGciOiJFUzI1NiJ9.e30.c2ln".into());
    assert_eq!(error_sent_back(step(&hub.state, &raw, &browser()).await).0, "invalid_request");
}

#[tokio::test]
async fn a_data_scope_the_service_may_not_have_is_an_invalid_scope() {
    let hub = TestHub::new();
    let (error, url) = error_sent_back(step(&hub.state, &request("mairie", "openid enfants"), &browser()).await);
    assert_eq!(error, "invalid_scope");
    let description = param(url.as_str(), "error_description").unwrap();
    assert!(description.contains("enfants") && description.contains("`caf`"), "names the provider: {description}");
    assert!(description.contains("not authorised this client"), "says what is missing: {description}");
}

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required() {
    let hub = TestHub::new();
    let mut raw = request("mairie", "openid");
    raw.prompt = Some("none".into());
    assert_eq!(error_sent_back(step(&hub.state, &raw, &browser()).await).0, "login_required");
}

#[tokio::test]
async fn a_level_no_idp_reaches_is_access_denied() {
    let hub = TestHub::new();
    let mut raw = request("mairie", "openid");
    raw.acr_values = Some("eidas3".into());
    assert_eq!(error_sent_back(step(&hub.state, &raw, &browser()).await).0, "access_denied");
}

#[tokio::test]
async fn an_eligible_idp_hint_skips_the_choice_page() {
    let mut hub = TestHub::new();
    let mut raw = request("mairie", "openid");
    raw.idp_hint = Some("ameli".into());
    let outcome = step(&hub.state, &raw, &browser()).await.unwrap();
    assert!(redirect_of(&outcome).starts_with("https://ameli.example/authorize?state="));
    assert_eq!(hub.emitted(), [("authorization_asked".into(), "ok".into()), ("idp_chosen".into(), "ok".into())]);
}

#[tokio::test]
async fn an_ineligible_idp_hint_shows_the_choice_page() {
    let hub = TestHub::new();
    let mut raw = request("mairie", "openid");
    raw.idp_hint = Some("eteint".into());
    assert!(matches!(step(&hub.state, &raw, &browser()).await.unwrap().next, Next::Choice { .. }));
}

/// A browser signed in through impots for mairie.
async fn signed_in(hub: &TestHub) -> Browser {
    let mut browser = browser();
    let outcome = sign_in(hub, &mut browser, &request("mairie", "openid"), "impots", "angela").await.unwrap();
    code_of(&outcome);
    browser
}

#[tokio::test]
async fn a_live_session_signs_in_to_a_second_service_at_once() {
    let hub = TestHub::new();
    let browser = signed_in(&hub).await;
    let outcome = step(&hub.state, &request("ecole", "openid"), &browser).await.unwrap();
    let url = redirect_of(&outcome);
    assert!(url.starts_with("https://ecole.example/cb?code="), "{url}");
    assert_eq!(outcome.new_session, None);
    assert_eq!(hub.chain().await.len(), 2, "two sign-ins traced");
}

#[tokio::test]
async fn the_session_does_not_serve_in_another_browser() {
    let hub = TestHub::new();
    let signed = signed_in(&hub).await;
    let mut other = browser();
    other.session_id = signed.session_id.clone();
    assert!(matches!(step(&hub.state, &request("ecole", "openid"), &other).await.unwrap().next, Next::Choice { .. }));
}

#[tokio::test]
async fn prompt_login_max_age_zero_and_a_higher_level_ask_again() {
    let hub = TestHub::new();
    let browser = signed_in(&hub).await;
    for (name, value) in [("prompt", "login"), ("max_age", "0"), ("acr_values", "eidas2")] {
        let mut raw = request("ecole", "openid");
        match name {
            "prompt" => raw.prompt = Some(value.into()),
            "max_age" => raw.max_age = Some(value.into()),
            _ => raw.acr_values = Some(value.into()),
        }
        let outcome = step(&hub.state, &raw, &browser).await.unwrap();
        assert!(matches!(outcome.next, Next::Choice { .. }), "{name}={value} asks again");
    }
}

#[tokio::test]
async fn a_session_older_than_max_age_asks_again() {
    let hub = TestHub::new();
    let browser = signed_in(&hub).await;
    hub.advance(120);
    let mut raw = request("ecole", "openid");
    raw.max_age = Some("60".into());
    assert!(matches!(step(&hub.state, &raw, &browser).await.unwrap().next, Next::Choice { .. }));
    raw.max_age = Some("600".into());
    assert!(redirect_of(&step(&hub.state, &raw, &browser).await.unwrap()).contains("code="));
}

#[tokio::test]
async fn prompt_none_with_data_asked_is_consent_required() {
    let hub = TestHub::new();
    let browser = signed_in(&hub).await;
    let mut raw = request("mairie", "openid quotient_familial");
    raw.prompt = Some("none".into());
    assert_eq!(error_sent_back(step(&hub.state, &raw, &browser).await).0, "consent_required");
}

#[tokio::test]
async fn a_session_whose_idp_was_blocked_since_does_not_serve() {
    let hub = TestHub::new();
    let browser = signed_in(&hub).await;
    let session = crate::engine::support::session::load(&hub.state, &browser).await.unwrap().unwrap();
    let person = crate::engine::support::session::person_of(&hub.state, &session);
    use relais_store::PreferenceStore;
    let preferences =
        relais_domain::preferences::Preferences { blocked: vec![IdpId::new("impots")], ..Default::default() };
    hub.traces.set_preferences(person.as_str(), &preferences, START).await.unwrap();
    crate::engine::support::session::mark_preferences_changed(&hub.state, person.as_str()).await.unwrap();
    match step(&hub.state, &request("ecole", "openid"), &browser).await.unwrap().next {
        Next::Choice { idps, .. } => assert!(idps.iter().all(|i| i.id != "impots"), "and it is not offered"),
        _ => panic!("no single sign-on through a blocked IdP"),
    }
}
