//! Logout: the session ends, traced, then the IdP's, then back to the service.

use super::*;
use crate::engine::{logout, logout_callback, LogoutOutcome, LogoutParams};
use relais_domain::trace::TraceKind;

async fn signed_in(hub: &TestHub) -> (Browser, String) {
    let mut browser = browser();
    let code = code_of(&sign_in(hub, &mut browser, &request("mairie", "openid"), "impots", "angela").await.unwrap());
    let answer = tokens(hub, &code).await;
    (browser, answer["id_token"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_logout_with_the_persons_hint_ends_the_session_everywhere_and_is_traced() {
    let hub = TestHub::new();
    let (browser, id_token) = signed_in(&hub).await;
    let params = LogoutParams {
        id_token_hint: Some(id_token),
        post_logout_redirect_uri: Some("https://mairie.example/bye".into()),
        state: Some("bye-state".into()),
        ..Default::default()
    };
    let to_idp = match logout(&hub.state, params, &browser, false).await.unwrap() {
        LogoutOutcome::Redirect(url) => url,
        _ => panic!("to the IdP's logout"),
    };
    assert!(to_idp.starts_with("https://impots.example/logout?state="));
    assert!(crate::engine::support::session::load(&hub.state, &browser).await.unwrap().is_none(), "ended");
    let last = hub.chain().await.pop().unwrap();
    assert_eq!(last.event.kind, TraceKind::Logout);
    assert_eq!(last.event.sp.as_deref(), Some("mairie"));
    let back = logout_callback(&hub.state, param(&to_idp, "state").as_deref()).await.unwrap();
    match back {
        LogoutOutcome::Redirect(url) => assert_eq!(url, "https://mairie.example/bye?state=bye-state"),
        _ => panic!("back to the service"),
    }
}

#[tokio::test]
async fn a_logout_without_a_hint_asks_the_person_to_confirm() {
    let hub = TestHub::new();
    let (browser, _) = signed_in(&hub).await;
    let outcome = logout(&hub.state, LogoutParams::default(), &browser, false).await.unwrap();
    assert!(matches!(outcome, LogoutOutcome::Confirm(_)));
    assert!(crate::engine::support::session::load(&hub.state, &browser).await.unwrap().is_some(), "not ended");
    assert!(matches!(
        logout(&hub.state, LogoutParams::default(), &browser, true).await.unwrap(),
        LogoutOutcome::Redirect(_)
    ));
}

#[tokio::test]
async fn an_unregistered_post_logout_address_is_refused() {
    let hub = TestHub::new();
    let (browser, id_token) = signed_in(&hub).await;
    let params = LogoutParams {
        id_token_hint: Some(id_token),
        post_logout_redirect_uri: Some("https://attacker.example/".into()),
        ..Default::default()
    };
    assert_eq!(page_of(logout(&hub.state, params, &browser, false).await), ErrorPage::UnregisteredRedirect);
}
