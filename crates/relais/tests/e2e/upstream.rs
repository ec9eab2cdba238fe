//! What the operator's log says when an IdP fails during a sign-in, through the hub's real
//! client towards it: a refused hub secret, a token endpoint that never answers (given up on
//! after `hub.upstream_timeout`), and a gateway's error page from an IdP gone down. Each says
//! which IdP, which step, the IdP's error and how long it took; none shows a secret.

use openidconnect::AuthType;
use relais_mocks::idp::Fault;
use serde_json::Value;

use crate::harness::*;

/// A sign-in at sp-a through `impots` with `fault` at the IdP: what the person got, and the
/// hub's log line saying why.
async fn failed_sign_in(fault: Fault) -> (String, Value, String) {
    // The hub, the mocks and this test share the one thread of this runtime.
    let (logs, _guard) = LogCapture::start();
    let platform = Platform::start().await;
    let sp = Sp::discover(&platform, "sp-a", Some("secret-a-for-tests-0123456789abcdef"), AuthType::BasicAuth).await;
    let browser = Browser::new();
    let request = sp.request(&["openid"], None, &[]);
    let html = browser.get(&request.url).await.text().await.unwrap();
    let to_idp =
        location(&browser.post(platform.url(&form_action(&html)).as_str(), &[("idp".into(), "impots".into())]).await);
    platform.idp("impots").set_fault(fault);
    let outcome = at_idp(&browser, &to_idp, 0).await;
    let text = logs.text();
    let line = logs.line("identity provider sign-in failed").unwrap_or_else(|| panic!("no failure line in {text}"));
    (outcome, line, text)
}

#[tokio::test]
async fn a_refused_hub_secret_is_logged_with_the_idp_the_step_and_its_oauth_error() {
    let (outcome, line, all) = failed_sign_in(Fault::RefuseClient).await;
    assert!(outcome.starts_with("status:"), "an error page: {outcome}");
    assert_eq!(line["level"], "WARN");
    assert_eq!(line["fields"]["idp"], "impots");
    assert_eq!(line["fields"]["step"], "token");
    assert_eq!(line["fields"]["outcome"], "token_refused");
    assert!(line["fields"]["error"].as_str().unwrap().starts_with("invalid_client"), "{line}");
    assert!(line["fields"]["duration_ms"].as_u64().is_some());
    assert!(!all.contains("idp-secret-impots"), "no secret in the logs");
}

#[tokio::test]
async fn a_token_endpoint_that_never_answers_is_given_up_on_after_the_timeout_and_says_so() {
    let (outcome, line, _) = failed_sign_in(Fault::TokenHangs).await;
    assert!(outcome.starts_with("status:200:"), "back to the choice: {outcome}");
    assert!(outcome.contains("Impôts"), "the page names the account that failed");
    assert_eq!(line["fields"]["step"], "token");
    assert_eq!(line["fields"]["outcome"], "idp_unavailable");
    assert!(line["fields"]["error"].as_str().unwrap().contains("timed out"), "{line}");
    let waited = line["fields"]["duration_ms"].as_u64().unwrap();
    assert!((1900..10_000).contains(&waited), "the configured 2 s: {waited} ms");
}

#[tokio::test]
async fn an_idp_gone_down_behind_its_gateway_is_unavailable_at_the_token_step() {
    let (outcome, line, _) = failed_sign_in(Fault::TokenGatewayError).await;
    assert!(outcome.starts_with("status:200:"), "back to the choice: {outcome}");
    assert_eq!(line["fields"]["step"], "token");
    assert_eq!(line["fields"]["outcome"], "idp_unavailable");
    assert!(line["fields"]["error"].as_str().unwrap().contains("not an OAuth answer"), "{line}");
}
