//! Three `relais serve` processes sharing PostgreSQL and Redis, as behind one load balancer: a
//! flow starts on one node, that node is killed, the flow goes on on another and its code is
//! exchanged on the third. Needs `RELAIS_TEST_POSTGRES_URL` and `RELAIS_TEST_REDIS_URL`. And two
//! processes sharing one SQLite registry: a configuration reloaded on one (`SIGHUP`) is served by
//! the other within the registry cache's lifetime, while a sign-in goes on.

use std::process::Stdio;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use url::Url;

use relais::config::{ConfigFile, HubSection, ServiceProviderSection};

use crate::harness::*;

const SECRET: &str = "secret-a-for-tests-0123456789abcdef";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// The public address of the hub: the nodes all claim it; the test talks to each node directly.
pub const ISSUER: &str = "http://localhost:9";

pub struct Node {
    pub process: Child,
    pub base: Url,
}

impl Node {
    /// Starts `relais serve` and waits for the line that says where it listens.
    pub async fn start(config: &std::path::Path) -> Node {
        let mut process = Command::new(env!("CARGO_BIN_EXE_relais"))
            .args(["serve", "--config"])
            .arg(config)
            .env("RELAIS_LOG", "error")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
        let address = loop {
            let line = lines.next_line().await.unwrap().expect("relais serve exited before listening");
            if let Some(address) = line.strip_prefix("relais hub listening on ") {
                break address.to_owned();
            }
        };
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let port = address.rsplit(':').next().unwrap();
        Node { process, base: Url::parse(&format!("http://localhost:{port}")).unwrap() }
    }

    /// `url` (an address under the public issuer) sent to this node instead.
    fn at(&self, url: &str) -> String {
        let url = Url::parse(url).unwrap_or_else(|_| Url::parse(ISSUER).unwrap().join(url).unwrap());
        let mut local = self.base.join(url.path()).unwrap();
        local.set_query(url.query());
        local.to_string()
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: set RELAIS_TEST_POSTGRES_URL and RELAIS_TEST_REDIS_URL"]
async fn a_flow_hops_across_three_hub_processes_and_survives_the_death_of_one() {
    let (_idps, idp_sections) = start_mock_idps(ISSUER).await;
    let database_url = fresh_database_url(Backends::Servers).await;
    let prefix = format!("relais-nodes-{}:", relais_oidc::random::random_token());
    let mut file = hub_file(idp_sections);
    file.storage.database_url = Some(database_url);
    file.storage.ephemeral_url = Some(redis_url());
    file.storage.redis_key_prefix = Some(prefix);
    file.storage.ephemeral_encryption_keys = vec!["k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".into()];
    file.service_providers = vec![ServiceProviderSection::new(
        "sp-a",
        "Mairie A",
        Some(SECRET),
        "https://sp-a.example/callback",
        &["openid", "identite_pivot"],
    )];
    let config = file.to_toml().unwrap();
    let path = std::env::temp_dir().join(format!("relais-nodes-{}.toml", relais_oidc::random::random_token()));
    std::fs::write(&path, config).unwrap();
    // One after the other: the first generates the keys, the others find them.
    let mut a = Node::start(&path).await;
    let b = Node::start(&path).await;
    let c = Node::start(&path).await;

    let browser = Browser::new();
    let mut authorize = Url::parse(&a.at("/authorize")).unwrap();
    authorize.query_pairs_mut().extend_pairs([
        ("client_id", "sp-a"),
        ("redirect_uri", "https://sp-a.example/callback"),
        ("response_type", "code"),
        ("scope", "openid identite_pivot"),
        ("state", "st"),
        ("nonce", "the-nonce"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]);
    let choice = browser.get(authorize.as_str()).await;
    assert_eq!(choice.status(), 200, "the choice page from node A");
    let html = choice.text().await.unwrap();

    a.process.kill().await.unwrap();
    assert!(reqwest::get(a.base.join("/healthz").unwrap()).await.is_err(), "node A is gone");

    let to_idp = location(&browser.post(&b.at(&form_action(&html)), &[("idp".into(), "impots".into())]).await);
    let page = browser.get(&to_idp).await.text().await.unwrap();
    let mut form = hidden_inputs(&page);
    form.push(("identity".into(), "0".into()));
    let callback =
        location(&browser.post(Url::parse(&to_idp).unwrap().join(&form_action(&page)).unwrap().as_str(), &form).await);
    assert!(callback.starts_with(ISSUER), "the IdP sends the person to the public address: {callback}");
    let redirect = location(&browser.get(&b.at(&callback)).await);
    assert!(redirect.starts_with("https://sp-a.example/callback?"), "node B completed the flow: {redirect}");
    let code = query_param(&redirect, "code").unwrap();

    let tokens: Value = reqwest::Client::new()
        .post(c.at("/token"))
        .basic_auth("sp-a", Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "https://sp-a.example/callback"),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id_token = tokens["id_token"].as_str().expect("node C exchanged the code");

    let jwks: jsonwebtoken::jwk::JwkSet = reqwest::get(c.at("/jwks")).await.unwrap().json().await.unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&["sp-a"]);
    validation.set_issuer(&[ISSUER]);
    let key = jsonwebtoken::DecodingKey::from_jwk(jwks.find(header.kid.as_deref().unwrap()).unwrap()).unwrap();
    let claims = jsonwebtoken::decode::<Value>(id_token, &key, &validation).unwrap().claims;
    assert_eq!(claims["nonce"], "the-nonce");
    assert_eq!(claims["family_name"], "DUBOIS");

    let userinfo: Value = reqwest::Client::new()
        .get(b.at("/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(userinfo["sub"], claims["sub"], "the access token works on another node");

    // Single sign-on on the third node, from the session made on the second.
    authorize.set_port(c.base.port()).unwrap();
    let sso = location(&browser.get(authorize.as_str()).await);
    assert!(sso.starts_with("https://sp-a.example/callback?code="), "{sso}");
    std::fs::remove_file(path).unwrap();
}

/// Signs in through `node` to `client_id` as the first test person at the mock IdP `impots`,
/// from the choice page `html` already shown; the redirect to the service.
async fn through_node(node: &Node, browser: &Browser, html: &str) -> String {
    let to_idp = location(&browser.post(&node.at(&form_action(html)), &[("idp".into(), "impots".into())]).await);
    let page = browser.get(&to_idp).await.text().await.unwrap();
    let mut form = hidden_inputs(&page);
    form.push(("identity".into(), "0".into()));
    let callback =
        location(&browser.post(Url::parse(&to_idp).unwrap().join(&form_action(&page)).unwrap().as_str(), &form).await);
    location(&browser.get(&node.at(&callback)).await)
}

fn authorize_at(node: &Node, client_id: &str) -> String {
    let mut authorize = Url::parse(&node.at("/authorize")).unwrap();
    authorize.query_pairs_mut().extend_pairs([
        ("client_id", client_id),
        ("redirect_uri", &format!("https://{client_id}.example/callback")),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "st"),
        ("nonce", "the-nonce"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]);
    authorize.to_string()
}

fn service_provider(client_id: &str) -> ServiceProviderSection {
    let redirect_uri = format!("https://{client_id}.example/callback");
    ServiceProviderSection::new(client_id, &format!("Service {client_id}"), Some(SECRET), &redirect_uri, &["openid"])
}

/// The nodes' configuration: the hub at the public address, listening on any port.
pub fn hub_file(identity_providers: Vec<relais::config::IdentityProviderSection>) -> ConfigFile {
    let mut hub = HubSection::new(Url::parse(ISSUER).unwrap(), "test-pairwise-secret-0123456789abcdef");
    hub.listen = "127.0.0.1:0".parse().unwrap();
    let mut file = ConfigFile::new(hub);
    file.identity_providers = identity_providers;
    file
}

/// Polls `url` in `browser` until it answers 200 or `deadline` passes; whether it did.
async fn answers_before(browser: &Browser, url: &str, deadline: std::time::Instant) -> bool {
    loop {
        if browser.get(url).await.status() == 200 {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[cfg(unix)]
#[tokio::test]
async fn sighup_reloads_the_configuration_without_dropping_a_sign_in_and_another_node_serves_the_change() {
    let (_idps, idp_sections) = start_mock_idps(ISSUER).await;
    let directory = std::env::temp_dir().join(format!("relais-reload-{}", relais_oidc::random::random_token()));
    std::fs::create_dir_all(&directory).unwrap();
    let mut file = hub_file(idp_sections);
    file.storage.database_url = Some(format!("sqlite://{}", directory.join("relais.db").display()));
    file.service_providers = vec![service_provider("sp-a")];
    let path = directory.join("relais.toml");
    std::fs::write(&path, file.to_toml().unwrap()).unwrap();
    let a = Node::start(&path).await;
    let b = Node::start(&path).await;

    // A sign-in to sp-a is in progress on node A; sp-new is unknown to both nodes.
    let in_progress = Browser::new();
    let choice = in_progress.get(&authorize_at(&a, "sp-a")).await;
    assert_eq!(choice.status(), 200);
    let html = choice.text().await.unwrap();
    let newcomer = Browser::new();
    assert_eq!(newcomer.get(&authorize_at(&b, "sp-new")).await.status(), 400, "not registered yet");

    file.service_providers.push(service_provider("sp-new"));
    std::fs::write(&path, file.to_toml().unwrap()).unwrap();
    let hangup = std::process::Command::new("kill").arg("-HUP").arg(a.process.id().unwrap().to_string()).status();
    assert!(hangup.unwrap().success());
    // Node A serves the change as soon as it has reloaded; node B within its cache's 5 seconds.
    let reloaded = std::time::Instant::now();
    assert!(
        answers_before(&newcomer, &authorize_at(&a, "sp-new"), reloaded + std::time::Duration::from_secs(10)).await
    );
    let served_by_a = std::time::Instant::now();
    assert!(
        answers_before(&newcomer, &authorize_at(&b, "sp-new"), served_by_a + std::time::Duration::from_secs(5)).await,
        "node B serves the new service provider within 5 seconds"
    );

    let redirect = through_node(&a, &in_progress, &html).await;
    assert!(redirect.starts_with("https://sp-a.example/callback?code="), "the sign-in in progress went on: {redirect}");
    let choice = newcomer.get(&authorize_at(&b, "sp-new")).await.text().await.unwrap();
    let redirect = through_node(&b, &newcomer, &choice).await;
    assert!(redirect.starts_with("https://sp-new.example/callback?code="), "a sign-in to the new SP: {redirect}");
    let alive = reqwest::get(a.base.join("/healthz").unwrap()).await.unwrap();
    assert_eq!(alive.status(), 200, "SIGHUP no longer stops the process");
    std::fs::remove_dir_all(directory).unwrap();
}
