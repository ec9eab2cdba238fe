//! A town hall's Flask application using Authlib's client with its defaults (PyPI,
//! `tests/authlib/app.py`) signs a person in through the hub: discovery, the code flow with
//! PKCE, Authlib's own checks of the ID token, then userinfo, which Authlib refuses to call
//! with a token it counts as expired (60 s before `expires_in`). After the person's logout,
//! the application's token is refused. Needs `RELAIS_TEST_AUTHLIB_PYTHON`: a Python with
//! `tests/authlib/requirements.txt` installed (`.ci/run` makes one).

use std::process::Stdio;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use url::Url;

use crate::harness::*;

struct AuthlibApp {
    _process: Child,
    base: Url,
}

impl AuthlibApp {
    async fn start(platform: &Platform, client: &Client) -> Self {
        let python = std::env::var("RELAIS_TEST_AUTHLIB_PYTHON").expect("RELAIS_TEST_AUTHLIB_PYTHON");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/authlib/app.py");
        let mut process = Command::new(python)
            .arg(script)
            .env("RELAIS_ISSUER", &platform.issuer)
            .env("CLIENT_ID", client.id)
            .env("CLIENT_SECRET", client.secret)
            .env("REDIRECT_URI", client.redirect_uri)
            .env("SCOPE", client.scope)
            .env("TOKEN_AUTH", client.token_auth)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the Authlib application starts");
        let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
        let line = lines.next_line().await.unwrap().expect("the Authlib application exited before listening");
        let port = line.strip_prefix("listening on ").expect("its first line says its port");
        let base = Url::parse(&format!("http://127.0.0.1:{port}")).unwrap();
        AuthlibApp { _process: process, base }
    }

    fn url(&self, path_and_query: &str) -> String {
        self.base.join(path_and_query).unwrap().to_string()
    }
}

/// Follows redirects from `url` until a page; its status and body.
async fn follow(browser: &Browser, url: String) -> (u16, String) {
    let mut url = url;
    for _ in 0..8 {
        let response = browser.get(&url).await;
        if !response.status().is_redirection() {
            return (response.status().as_u16(), response.text().await.unwrap());
        }
        let next = location(&response);
        url = Url::parse(&url).unwrap().join(&next).unwrap().to_string();
    }
    panic!("too many redirects from {url}");
}

/// A registered client of the test platform, as the application is configured for it.
struct Client {
    id: &'static str,
    secret: &'static str,
    redirect_uri: &'static str,
    scope: &'static str,
    /// Empty: Authlib's default (`client_secret_basic`).
    token_auth: &'static str,
    /// The ID token's algorithm.
    alg: &'static str,
}

/// sp-a: ES256 ID tokens, `client_secret_basic`; sp-b: RS256 (it names no algorithm),
/// `client_secret_post`.
const CLIENTS: [Client; 2] = [
    Client {
        id: "sp-a",
        secret: "secret-a-for-tests-0123456789abcdef",
        redirect_uri: "https://sp-a.example/callback",
        scope: "openid identite_pivot email",
        token_auth: "",
        alg: "ES256",
    },
    Client {
        id: "sp-b",
        secret: "secret-b-for-tests-0123456789abcdef",
        redirect_uri: "https://sp-b.example/callback",
        scope: "openid given_name family_name",
        token_auth: "client_secret_post",
        alg: "RS256",
    },
];

#[tokio::test]
#[ignore = "needs Authlib: set RELAIS_TEST_AUTHLIB_PYTHON to a Python with tests/authlib/requirements.txt"]
async fn an_authlib_flask_application_signs_in_with_its_defaults_and_its_token_dies_at_logout() {
    for client in &CLIENTS {
        signs_in_and_loses_its_token_at_logout(client).await;
    }
}

async fn signs_in_and_loses_its_token_at_logout(client: &Client) {
    let platform = Platform::start().await;
    let redirect_uri = client.redirect_uri;
    let app = AuthlibApp::start(&platform, client).await;
    let browser = Browser::new();

    let to_hub = location(&browser.get(&app.url("/login")).await);
    assert!(to_hub.starts_with(&format!("{}/authorize?", platform.issuer)), "{to_hub}");
    let choice = browser.get(&to_hub).await;
    assert_eq!(choice.status(), 200, "choice page");
    let html = choice.text().await.unwrap();
    let redirect = through_choice(&browser, &platform, &html, "impots", 0).await;
    assert!(redirect.starts_with(redirect_uri), "{redirect}");
    // The registered address is the application's callback; this test reaches it locally.
    let query = Url::parse(&redirect).unwrap().query().unwrap().to_owned();
    let answer = browser.get(&app.url(&format!("/callback?{query}"))).await;
    let status = answer.status();
    let body: Value = answer.json().await.unwrap();
    assert_eq!(status, 200, "{}: Authlib's callback: {body}", client.id);
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["alg"], client.alg);
    assert_eq!(body["userinfo"]["sub"], body["sub"], "userinfo names the subject of the ID token");
    assert_eq!(body["userinfo"]["family_name"], "DUBOIS");
    assert_eq!(body["acr"], "eidas1");

    let again: Value = browser.get(&app.url("/userinfo")).await.json().await.unwrap();
    assert_eq!(again["userinfo"]["sub"], body["sub"], "the kept token works before the logout");

    let (logged_out, _) = follow(&browser, app.url("/logout")).await;
    assert_eq!(logged_out, 200, "the hub's logged-out page");
    let after = browser.get(&app.url("/userinfo")).await;
    assert_eq!(after.status(), 401);
    let refused: Value = after.json().await.unwrap();
    assert!(refused["detail"].as_str().unwrap().contains("401"), "the hub refused the token: {refused}");
}
