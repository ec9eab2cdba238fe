//! Step 3b: consent to a data transfer, and step 4 after it.

use super::*;
use crate::engine::{consent_page, decide_consent, CONSENT_PATH};
use relais_domain::trace::TraceKind;

/// A browser signed in for mairie with the family quotient asked: at the consent page.
async fn at_consent(hub: &TestHub) -> (Browser, String) {
    let mut browser = browser();
    let raw = request("mairie", "openid quotient_familial");
    let outcome = sign_in(hub, &mut browser, &raw, "impots", "angela").await.unwrap();
    let url = redirect_of(&outcome).to_owned();
    let flow = url.strip_prefix(&format!("{CONSENT_PATH}/")).expect("the consent page").to_owned();
    (browser, flow)
}

#[tokio::test]
async fn the_page_says_which_data_from_which_provider_goes_to_which_service() {
    let hub = TestHub::new();
    let (browser, flow) = at_consent(&hub).await;
    let view = consent_page(&hub.state, &flow, &browser).await.unwrap();
    assert_eq!(view.service, "Mairie");
    assert_eq!(view.providers.len(), 1);
    assert_eq!(view.providers[0].name, "CAF");
    assert_eq!(view.providers[0].items[0].id, "caf:quotient_familial");
    assert_eq!(view.providers[0].items[0].label, "Quotient familial");
}

#[tokio::test]
async fn the_page_is_not_shown_in_another_browser() {
    let hub = TestHub::new();
    let (_, flow) = at_consent(&hub).await;
    assert_eq!(page_of(consent_page(&hub.state, &flow, &browser()).await), ErrorPage::SessionExpired);
}

#[tokio::test]
async fn a_consent_given_is_traced_and_goes_with_the_code() {
    let hub = TestHub::new();
    let (browser, flow) = at_consent(&hub).await;
    let accepted = Some(vec!["caf:quotient_familial".to_owned()]);
    let outcome = decide_consent(&hub.state, &flow, accepted, &browser).await.unwrap();
    code_of(&outcome);
    let kinds: Vec<_> = hub.chain().await.iter().map(|r| r.event.kind).collect();
    assert_eq!(kinds, [TraceKind::ConsentGiven, TraceKind::SignIn]);
    let sign_in = &hub.chain().await[1];
    assert_eq!(sign_in.event.scopes, ["openid", "quotient_familial"]);
}

#[tokio::test]
async fn nothing_ticked_is_a_refusal_and_still_signs_in_without_the_data() {
    let hub = TestHub::new();
    let (browser, flow) = at_consent(&hub).await;
    let outcome = decide_consent(&hub.state, &flow, None, &browser).await.unwrap();
    code_of(&outcome);
    let chain = hub.chain().await;
    assert_eq!(chain[0].event.kind, TraceKind::ConsentRefused);
    assert_eq!(chain[1].event.scopes, ["openid"]);
}

#[tokio::test]
async fn a_transfer_not_asked_cannot_be_ticked_in() {
    let hub = TestHub::new();
    let (browser, flow) = at_consent(&hub).await;
    let forged = Some(vec!["caf:enfants".to_owned(), "impots:revenu".to_owned()]);
    decide_consent(&hub.state, &flow, forged, &browser).await.unwrap();
    let chain = hub.chain().await;
    assert_eq!(chain[0].event.kind, TraceKind::ConsentRefused, "only what was asked is decided");
    assert_eq!(chain.len(), 2);
}

#[tokio::test]
async fn an_answer_is_taken_once_and_only_in_its_browser_and_session() {
    let hub = TestHub::new();
    let (browser, flow) = at_consent(&hub).await;
    let mut without_session = super::browser();
    without_session.binding = browser.binding.clone();
    let page = page_of(decide_consent(&hub.state, &flow, None, &without_session).await);
    assert_eq!(page, ErrorPage::SessionExpired);
    let (browser, flow) = at_consent(&hub).await;
    decide_consent(&hub.state, &flow, None, &browser).await.unwrap();
    assert_eq!(page_of(decide_consent(&hub.state, &flow, None, &browser).await), ErrorPage::SessionExpired);
}

#[tokio::test]
async fn a_forged_post_without_the_persons_cookies_leaves_their_consent_pending() {
    let hub = TestHub::new();
    let (browser, flow) = at_consent(&hub).await;
    let page = page_of(decide_consent(&hub.state, &flow, None, &super::browser()).await);
    assert_eq!(page, ErrorPage::SessionExpired);
    let accepted = Some(vec!["caf:quotient_familial".to_owned()]);
    code_of(&decide_consent(&hub.state, &flow, accepted, &browser).await.unwrap());
}
