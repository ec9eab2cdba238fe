//! The operator admin API over HTTP, driven by the `relais admin` binary as an operator would:
//! a service registered on one node signs in there through the `openidconnect` crate and is
//! served by another node within the registry cache's lifetime (5 s); removed, it stops there
//! as soon; every change is in the hash chain with its author; a refusal changes nothing.

use std::time::{Duration, Instant};

use openidconnect::AuthType;
use serde_json::{json, Value};
use url::Url;

use crate::harness::*;

/// Runs `relais admin --url hub --token … args`; its exit status, standard output and error.
async fn relais_admin(hub: &Url, args: &[&str]) -> (bool, String, String) {
    relais_admin_with(hub, OPERATOR_TOKEN, args).await
}

/// [`relais_admin`] with `token`.
async fn relais_admin_with(hub: &Url, token: &str, args: &[&str]) -> (bool, String, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_relais"))
        .args(["admin", "--url", hub.as_str(), "--token", token])
        .args(args)
        .output()
        .await
        .unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (output.status.success(), text(output.stdout), text(output.stderr))
}

fn authorize_at(node: &Url, client_id: &str) -> String {
    let mut authorize = node.join("/authorize").unwrap();
    authorize.query_pairs_mut().extend_pairs([
        ("client_id", client_id),
        ("redirect_uri", &format!("https://{client_id}.example/callback")),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "st"),
        ("nonce", "the-nonce"),
    ]);
    authorize.to_string()
}

fn body_file(body: &Value) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("relais-admin-{}.json", relais_oidc::random::random_token()));
    std::fs::write(&path, body.to_string()).unwrap();
    path
}

#[tokio::test]
async fn a_service_registered_with_relais_admin_signs_in_and_reaches_every_node_within_five_seconds() {
    let platform = Platform::start().await;
    let other_node = platform.add_node().await;
    let newcomer = Browser::new();
    // The other node has read that the client does not exist (and keeps that for a while).
    assert_eq!(newcomer.get(&authorize_at(&other_node, "trifouillis")).await.status(), 400);

    let body = json!({
        "client_name": "Mairie de Trifouillis",
        "redirect_uris": ["https://trifouillis.example/callback"],
        "scope": "openid given_name family_name",
    });
    let (ok, out, err) = relais_admin(
        &platform.hub,
        &["put", "service-providers", "trifouillis", "--file", body_file(&body).to_str().unwrap()],
    )
    .await;
    assert!(ok, "{out}{err}");
    let written: Value = serde_json::from_str(&out).unwrap();
    let secret = written["client_secret"].as_str().unwrap().to_owned();
    let registered = Instant::now();

    // Signed in at once on the node that took the change, by a certified-style client library.
    let sp = Sp::discover(&platform, "trifouillis", Some(&secret), AuthType::BasicAuth).await;
    let signed_in = sign_in(&platform, &Browser::new(), &sp, &["openid", "given_name"], "impots", 0).await;
    assert!(!signed_in.sub.is_empty());
    // Served by the other node within the cache's lifetime.
    let url = authorize_at(&other_node, "trifouillis");
    assert!(answers_before(&newcomer, &url, 200, registered + Duration::from_secs(5)).await, "not served in 5 s");

    let (ok, out, _) = relais_admin(&platform.hub, &["list", "service-providers"]).await;
    assert!(ok && out.contains("\"client_id\": \"trifouillis\"") && !out.contains(&secret), "{out}");

    // Removed: refused on both nodes within the same time.
    let (ok, out, err) = relais_admin(&platform.hub, &["delete", "service-providers", "trifouillis"]).await;
    assert!(ok, "{out}{err}");
    let removed = Instant::now();
    assert_eq!(newcomer.get(&authorize_at(&platform.hub, "trifouillis")).await.status(), 400);
    assert!(answers_before(&newcomer, &url, 400, removed + Duration::from_secs(5)).await, "still served after 5 s");

    let changes: Vec<(String, Option<String>, Option<String>)> = platform
        .state_traces()
        .await
        .into_iter()
        .filter(|record| record.event.kind == relais_domain::trace::TraceKind::RegistryChange)
        .map(|record| (record.event.outcome, record.event.sp, record.event.author))
        .collect();
    let by_ops = Some("operator:ops".to_owned());
    let trifouillis = Some("trifouillis".to_owned());
    assert_eq!(
        changes,
        [("added".into(), trifouillis.clone(), by_ops.clone()), ("removed".into(), trifouillis, by_ops)]
    );
}

#[tokio::test]
async fn relais_admin_says_which_field_is_wrong_and_nothing_changes() {
    let platform = Platform::start().await;
    let body = json!({
        "client_name": "Mairie",
        "redirect_uris": ["http://mairie.example/callback"],
        "scope": "openid",
    });
    let file = body_file(&body);
    let (ok, out, err) =
        relais_admin(&platform.hub, &["put", "service-providers", "mairie-b", "--file", file.to_str().unwrap()]).await;
    assert!(!ok, "{out}");
    assert!(err.contains("400") && err.contains("redirect_uris") && err.contains("https"), "{err}");
    let (ok, _, err) = relais_admin(&platform.hub, &["get", "service-providers", "mairie-b"]).await;
    assert!(!ok && err.contains("404"), "{err}");
    // The configuration file's service is read-only here.
    let (ok, _, err) = relais_admin(&platform.hub, &["delete", "service-providers", "sp-a"]).await;
    assert!(!ok && err.contains("409") && err.contains("configuration file"), "{err}");
    // A wrong token.
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_relais"))
        .args(["admin", "--url", platform.hub.as_str(), "--token", "wrong", "keys"])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("401"));
    assert!(platform
        .state_traces()
        .await
        .iter()
        .all(|record| record.event.kind != relais_domain::trace::TraceKind::RegistryChange));
}

#[tokio::test]
async fn an_agent_with_the_operator_role_makes_a_token_on_the_portal_and_uses_the_admin_api_for_a_day() {
    use crate::portal::{csrf, portal_sign_in, CAMILLE, LEA};
    let platform = Platform::start().await;
    let camille = Browser::new();
    portal_sign_in(&platform, &camille, CAMILLE).await;
    let queue = platform.url("/partenaires/instruction");
    let page = camille.get(queue.as_str()).await.text().await.unwrap();
    assert!(page.contains("API d&#x27;administration"), "{page}");
    let made =
        camille.post(platform.url("/partenaires/instruction/jeton").as_str(), &[("csrf".into(), csrf(&page))]).await;
    assert_eq!(location(&made), "/partenaires/instruction");
    let page = camille.get(queue.as_str()).await.text().await.unwrap();
    let token = crate::portal::between(&page, "<code id=\"admin-token\">", "</code>").to_owned();
    assert!(token.len() >= 32, "{token}");
    let again = camille.get(queue.as_str()).await.text().await.unwrap();
    assert!(!again.contains(&token), "shown once");

    // The admin API and relais admin take it; the change is the agent's in the traces.
    let (ok, out, err) = relais_admin_with(&platform.hub, &token, &["list", "service-providers"]).await;
    assert!(ok && out.contains("\"client_id\": \"sp-a\""), "{out}{err}");
    let body = json!({ "client_name": "Mairie de Trifouillis", "redirect_uris": ["https://trifouillis.example/cb"], "scope": "openid" });
    let file = body_file(&body);
    let (ok, out, err) = relais_admin_with(
        &platform.hub,
        &token,
        &["put", "service-providers", "trifouillis", "--file", file.to_str().unwrap()],
    )
    .await;
    assert!(ok, "{out}{err}");
    let authors: Vec<String> = platform
        .state_traces()
        .await
        .into_iter()
        .filter(|record| record.event.kind == relais_domain::trace::TraceKind::RegistryChange)
        .filter_map(|record| record.event.author)
        .collect();
    assert_eq!(authors.len(), 1, "{authors:?}");
    assert!(authors[0].starts_with("agent:") && !authors[0].contains('@'), "{authors:?}");

    // An agent without the role is refused the token; a made-up one and an expired one are not tokens.
    let lea = Browser::new();
    portal_sign_in(&platform, &lea, LEA).await;
    let form = lea.get(platform.url("/partenaires/services/nouveau").as_str()).await.text().await.unwrap();
    let refused =
        lea.post(platform.url("/partenaires/instruction/jeton").as_str(), &[("csrf".into(), csrf(&form))]).await;
    assert_eq!(refused.status(), 403);
    let (ok, _, err) = relais_admin_with(&platform.hub, "pas-un-jeton-pas-un-jeton-pas-un-jeton", &["keys"]).await;
    assert!(!ok && err.contains("401"), "{err}");
    platform.clock.advance(8 * 3600 + 1);
    let (ok, _, err) = relais_admin_with(&platform.hub, &token, &["keys"]).await;
    assert!(!ok && err.contains("401"), "a working day only: {err}");
}
