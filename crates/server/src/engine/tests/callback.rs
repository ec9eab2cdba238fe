//! Steps 2 and 3: the choice, the hub's request to the IdP, and the IdP's answer.

use super::*;
use crate::engine::{choose, idp_callback, IdpCallback};

/// A pending authorization of mairie, sent to `idp`: the browser and the hub's upstream state.
async fn at_idp(hub: &TestHub, idp: &str) -> (Browser, String) {
    let browser = browser();
    let choice = crate::engine::authorize(&hub.state, &request("mairie", "openid"), &browser).await.unwrap();
    match choose(&hub.state, &flow_of(&choice), &IdpId::new(idp), &browser).await.unwrap() {
        Next::ToIdp { url, idp: chosen } => {
            assert_eq!(chosen, idp);
            let state = param(&url, "state").unwrap();
            (browser, state)
        }
        _ => panic!("not sent to the IdP"),
    }
}

fn answer(state: &str, code: &str, idp: &str) -> IdpCallback {
    IdpCallback {
        code: Some(code.into()),
        state: Some(state.into()),
        iss: Some(format!("https://{idp}.example")),
        error: None,
    }
}

#[tokio::test]
async fn choosing_an_unknown_flow_or_in_another_browser_is_an_expired_session() {
    let hub = TestHub::new();
    let page = page_of(choose(&hub.state, "no-such-flow", &IdpId::new("impots"), &browser()).await);
    assert_eq!(page, ErrorPage::SessionExpired);
    let choice = crate::engine::authorize(&hub.state, &request("mairie", "openid"), &browser()).await.unwrap();
    let page = page_of(choose(&hub.state, &flow_of(&choice), &IdpId::new("impots"), &browser()).await);
    assert_eq!(page, ErrorPage::SessionExpired, "the flow is bound to the browser that started it");
}

#[tokio::test]
async fn choosing_an_idp_not_offered_is_a_bad_request() {
    let hub = TestHub::new();
    let browser = browser();
    let choice = crate::engine::authorize(&hub.state, &request("mairie", "openid"), &browser).await.unwrap();
    let page = page_of(choose(&hub.state, &flow_of(&choice), &IdpId::new("eteint"), &browser).await);
    assert_eq!(page, ErrorPage::BadRequest);
}

#[tokio::test]
async fn an_unreachable_idp_is_said_on_the_choice_which_offers_the_others() {
    let hub = TestHub::new();
    let browser = browser();
    let choice = crate::engine::authorize(&hub.state, &request("mairie", "openid"), &browser).await.unwrap();
    let flow = flow_of(&choice);
    match choose(&hub.state, &flow, &IdpId::new("panne"), &browser).await.unwrap() {
        Next::Choice { failed, idps, .. } => {
            assert_eq!(failed.as_deref(), Some("IdP panne"));
            assert_eq!(idps.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["impots", "ameli"]);
        }
        _ => panic!("back to the choice"),
    }
    assert!(matches!(choose(&hub.state, &flow, &IdpId::new("impots"), &browser).await.unwrap(), Next::ToIdp { .. }));
}

#[tokio::test]
async fn a_verified_answer_opens_a_session_and_sends_a_code() {
    let mut hub = TestHub::new();
    let (browser, state) = at_idp(&hub, "impots").await;
    let outcome =
        idp_callback(&hub.state, &IdpId::new("impots"), &answer(&state, "angela", "impots"), &browser).await.unwrap();
    let url = redirect_of(&outcome);
    assert!(url.starts_with("https://mairie.example/cb?code="), "{url}");
    assert_eq!(param(url, "state").as_deref(), Some("sp-state"));
    assert_eq!(param(url, "iss").as_deref(), Some(ISSUER));
    assert!(outcome.new_session.is_some(), "a session cookie to set");
    let steps: Vec<_> = hub.emitted().into_iter().map(|(step, _)| step).collect();
    assert_eq!(steps, ["authorization_asked", "idp_chosen", "identity_received", "code_issued"]);
    let chain = hub.chain().await;
    assert_eq!(chain.len(), 1);
    assert_eq!(chain[0].event.kind, relais_domain::trace::TraceKind::SignIn);
    assert_eq!(chain[0].event.idp.as_deref(), Some("impots"));
}

#[tokio::test]
async fn an_answer_is_single_use() {
    let hub = TestHub::new();
    let (browser, state) = at_idp(&hub, "impots").await;
    let callback = answer(&state, "angela", "impots");
    idp_callback(&hub.state, &IdpId::new("impots"), &callback, &browser).await.unwrap();
    let page = page_of(idp_callback(&hub.state, &IdpId::new("impots"), &callback, &browser).await);
    assert_eq!(page, ErrorPage::SessionExpired);
}

#[tokio::test]
async fn an_answer_without_state_or_code_is_a_bad_request() {
    let hub = TestHub::new();
    let mut callback = answer("x", "angela", "impots");
    callback.state = None;
    let page = page_of(idp_callback(&hub.state, &IdpId::new("impots"), &callback, &browser()).await);
    assert_eq!(page, ErrorPage::BadRequest);
    let (browser, state) = at_idp(&hub, "impots").await;
    let mut callback = answer(&state, "angela", "impots");
    callback.code = None;
    assert_eq!(
        page_of(idp_callback(&hub.state, &IdpId::new("impots"), &callback, &browser).await),
        ErrorPage::BadRequest
    );
}

#[tokio::test]
async fn an_answer_from_another_browser_is_an_expired_session() {
    let hub = TestHub::new();
    let (_, state) = at_idp(&hub, "impots").await;
    let callback = answer(&state, "angela", "impots");
    let page = page_of(idp_callback(&hub.state, &IdpId::new("impots"), &callback, &browser()).await);
    assert_eq!(page, ErrorPage::SessionExpired);
}

#[tokio::test]
async fn an_answer_on_another_idps_callback_is_a_mix_up() {
    let mut hub = TestHub::new();
    let (browser, state) = at_idp(&hub, "impots").await;
    let callback = answer(&state, "angela", "impots");
    let page = page_of(idp_callback(&hub.state, &IdpId::new("ameli"), &callback, &browser).await);
    assert_eq!(page, ErrorPage::IdentityRejected);
    assert!(hub.emitted().contains(&("identity_received".into(), "mix_up_callback".into())));
}

#[tokio::test]
async fn an_answer_from_another_issuer_is_a_mix_up() {
    let hub = TestHub::new();
    let (browser, state) = at_idp(&hub, "impots").await;
    let callback = answer(&state, "angela", "ameli");
    let page = page_of(idp_callback(&hub.state, &IdpId::new("impots"), &callback, &browser).await);
    assert_eq!(page, ErrorPage::IdentityRejected);
}

#[tokio::test]
async fn an_idp_error_is_sent_back_to_the_service_as_access_denied() {
    let hub = TestHub::new();
    let (browser, state) = at_idp(&hub, "impots").await;
    let mut callback = answer(&state, "angela", "impots");
    callback.code = None;
    callback.error = Some("access_denied".into());
    let result = idp_callback(&hub.state, &IdpId::new("impots"), &callback, &browser).await;
    let (error, url) = error_sent_back(result);
    assert_eq!(error, "access_denied");
    assert_eq!(param(url.as_str(), "state").as_deref(), Some("sp-state"));
}

#[tokio::test]
async fn each_upstream_failure_has_its_page_and_its_trace() {
    for (code, page, outcome) in [
        ("forged", ErrorPage::IdentityRejected, "id_token_rejected"),
        ("low", ErrorPage::IdentityRejected, "level_not_reached"),
        ("incomplete", ErrorPage::IdentityIncomplete, "pivot_claim_missing"),
    ] {
        let mut hub = TestHub::new();
        let (browser, state) = at_idp(&hub, "impots").await;
        let result = idp_callback(&hub.state, &IdpId::new("impots"), &answer(&state, code, "impots"), &browser).await;
        assert_eq!(page_of(result), page, "{code}");
        assert!(hub.emitted().contains(&("identity_received".into(), outcome.into())), "{code}");
        assert!(hub.chain().await.is_empty(), "no sign-in traced for {code}");
    }
}

#[tokio::test]
async fn an_idp_the_person_blocked_is_refused() {
    let hub = TestHub::new();
    let session = {
        let mut browser = browser();
        sign_in(&hub, &mut browser, &request("mairie", "openid"), "impots", "angela").await.unwrap();
        crate::engine::support::session::load(&hub.state, &browser).await.unwrap().unwrap()
    };
    let person = crate::engine::support::session::person_of(&hub.state, &session);
    use relais_store::PreferenceStore;
    let preferences =
        relais_domain::preferences::Preferences { blocked: vec![IdpId::new("ameli")], ..Default::default() };
    hub.traces.set_preferences(person.as_str(), &preferences, START).await.unwrap();
    let (browser, state) = at_idp(&hub, "ameli").await;
    let result = idp_callback(&hub.state, &IdpId::new("ameli"), &answer(&state, "angela", "ameli"), &browser).await;
    assert_eq!(page_of(result), ErrorPage::IdpBlocked);
}

#[tokio::test]
async fn the_pending_authorization_expires() {
    let hub = TestHub::new();
    let (browser, state) = at_idp(&hub, "impots").await;
    hub.advance(901);
    let result = idp_callback(&hub.state, &IdpId::new("impots"), &answer(&state, "angela", "impots"), &browser).await;
    assert_eq!(page_of(result), ErrorPage::SessionExpired);
}

#[tokio::test]
async fn an_answer_without_iss_from_an_idp_that_sends_it_is_refused() {
    let mut hub = TestHub::new();
    let (browser, state) = at_idp(&hub, "impots").await;
    let mut callback = answer(&state, "angela", "impots");
    callback.iss = None;
    let page = page_of(idp_callback(&hub.state, &IdpId::new("impots"), &callback, &browser).await);
    assert_eq!(page, ErrorPage::IdentityRejected);
    assert!(hub.emitted().contains(&("identity_received".into(), "iss_missing".into())));
    // An IdP that does not advertise RFC 9207 may leave it out.
    let (browser, state) = at_idp(&hub, "ameli").await;
    let mut callback = answer(&state, "angela", "ameli");
    callback.iss = None;
    code_of(&idp_callback(&hub.state, &IdpId::new("ameli"), &callback, &browser).await.unwrap());
}

#[tokio::test]
async fn an_idp_that_fails_at_the_code_exchange_sends_the_person_back_to_the_others() {
    let mut hub = TestHub::new();
    let (browser, state) = at_idp(&hub, "impots").await;
    let outcome =
        idp_callback(&hub.state, &IdpId::new("impots"), &answer(&state, "down", "impots"), &browser).await.unwrap();
    let flow = match outcome.next {
        Next::Choice { failed, idps, flow, .. } => {
            assert_eq!(failed.as_deref(), Some("IdP impots"));
            assert!(idps.iter().all(|i| i.id != "impots"));
            flow
        }
        _ => panic!("back to the choice"),
    };
    assert!(hub.emitted().contains(&("identity_received".into(), "idp_unavailable".into())));
    // The sign-in goes on through another account.
    let to_idp = match choose(&hub.state, &flow, &IdpId::new("ameli"), &browser).await.unwrap() {
        Next::ToIdp { url, .. } => url,
        _ => panic!("to ameli"),
    };
    let callback = answer(&param(&to_idp, "state").unwrap(), "angela", "ameli");
    code_of(&idp_callback(&hub.state, &IdpId::new("ameli"), &callback, &browser).await.unwrap());
}

#[tokio::test]
async fn a_refused_answer_offers_the_way_back_to_the_service_with_its_state() {
    let hub = TestHub::new();
    let (browser, state) = at_idp(&hub, "impots").await;
    let result =
        idp_callback(&hub.state, &IdpId::new("impots"), &answer(&state, "incomplete", "impots"), &browser).await;
    match result {
        Err(PageError::PageWithReturn(ErrorPage::IdentityIncomplete, back)) => {
            assert!(back.starts_with("https://mairie.example/cb?error=access_denied"), "{back}");
            assert_eq!(param(&back, "state").as_deref(), Some("sp-state"));
            assert_eq!(param(&back, "iss").as_deref(), Some(ISSUER));
        }
        _ => panic!("a page with the way back"),
    }
}

#[tokio::test]
async fn an_idp_unreachable_three_times_in_a_row_is_marked_down_on_the_choice_for_a_minute() {
    let hub = TestHub::new();
    let browser = browser();
    let choice = crate::engine::authorize(&hub.state, &request("mairie", "openid"), &browser).await.unwrap();
    let flow = flow_of(&choice);
    let down = |next: Next| match next {
        Next::Choice { idps, .. } => idps.iter().filter(|idp| idp.down).map(|idp| idp.id.clone()).collect::<Vec<_>>(),
        _ => panic!("the choice"),
    };
    for _ in 0..2 {
        choose(&hub.state, &flow, &IdpId::new("panne"), &browser).await.unwrap();
    }
    let page = crate::engine::choice_page(&hub.state, &flow, &browser).await.unwrap();
    assert!(down(page).is_empty(), "two failures");
    choose(&hub.state, &flow, &IdpId::new("panne"), &browser).await.unwrap();
    let page = crate::engine::choice_page(&hub.state, &flow, &browser).await.unwrap();
    match &page {
        Next::Choice { idps, .. } => {
            assert_eq!(idps.last().map(|idp| (idp.id.as_str(), idp.down)), Some(("panne", true)))
        }
        _ => panic!("the choice"),
    }
    let metrics = hub.state.metrics().encode(hub.state.clock.now(), 1800);
    assert!(metrics.contains("relais_idp_up{idp=\"panne\"} 0"), "{metrics}");
    hub.advance(61);
    assert!(down(crate::engine::choice_page(&hub.state, &flow, &browser).await.unwrap()).is_empty(), "tried again");
}
