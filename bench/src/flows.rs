//! The measured flows, as a person's browser and an SP's back end make them.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context};
use url::Url;

use crate::load::Flow;
use crate::vu::{form_action, hidden_inputs, location, query_param, VirtualUser};

pub type Boxed<'a> = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + 'a>>;

/// A fixed PKCE pair (RFC 7636 appendix B): the cost of PKCE is in the server, not here.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// An OpenID provider and the SP registered at it.
#[derive(Clone)]
pub struct Provider {
    pub authorize: Url,
    pub token: Url,
    pub userinfo: Url,
    pub client_id: String,
    pub secret: String,
    pub redirect_uri: String,
}

impl Provider {
    fn authorization_url(&self, scope: &str) -> Url {
        let mut url = self.authorize.clone();
        let state = format!("{:x}", rand::random::<u64>());
        url.query_pairs_mut()
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", scope)
            .append_pair("state", &state)
            .append_pair("nonce", &state)
            .append_pair("code_challenge", CHALLENGE)
            .append_pair("code_challenge_method", "S256");
        url
    }

    /// Token request and userinfo for `code`; the access token.
    async fn redeem(&self, vu: &mut VirtualUser, code: &str) -> anyhow::Result<String> {
        let response = vu
            .http
            .post(self.token.clone())
            .basic_auth(&self.client_id, Some(&self.secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", self.redirect_uri.as_str()),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("token: {}", response.status());
        }
        let tokens: serde_json::Value = response.json().await?;
        let access_token = tokens["access_token"].as_str().context("no access token")?.to_owned();
        tokens["id_token"].as_str().context("no id token")?;
        let userinfo = vu.http.get(self.userinfo.clone()).bearer_auth(&access_token).send().await?;
        if !userinfo.status().is_success() {
            bail!("userinfo: {}", userinfo.status());
        }
        userinfo.bytes().await?;
        Ok(access_token)
    }

    fn code_of(&self, redirect: &Url) -> anyhow::Result<String> {
        if !redirect.as_str().starts_with(&self.redirect_uri) {
            bail!("not back at the SP: {redirect}");
        }
        query_param(redirect, "code").context("no code")
    }
}

/// Single sign-on: with a live session, authorization request → code → token → userinfo.
pub struct SsoFlow {
    pub provider: Provider,
    pub scope: String,
    pub tokens: Option<Arc<Mutex<Vec<String>>>>,
}

impl Flow for SsoFlow {
    fn run<'a>(&'a self, vu: &'a mut VirtualUser) -> Boxed<'a> {
        Box::pin(async move {
            let url = self.provider.authorization_url(&self.scope);
            let response = vu.get(&url).await?;
            let redirect = location(&url, &response)?;
            let code = self.provider.code_of(&redirect)?;
            let token = self.provider.redeem(vu, &code).await?;
            if let Some(tokens) = &self.tokens {
                if let Ok(mut tokens) = tokens.lock() {
                    tokens.push(token);
                }
            }
            Ok(())
        })
    }
}

/// Establishes a session at an interaction-less provider (the peer): follows redirects until the
/// SP gets its code.
pub async fn establish_session(provider: &Provider, scope: &str, vu: &mut VirtualUser) -> anyhow::Result<()> {
    let mut url = provider.authorization_url(scope);
    for _ in 0..10 {
        let response = vu.get(&url).await?;
        url = location(&url, &response)?;
        if url.as_str().starts_with(&provider.redirect_uri) {
            provider.redeem(vu, &provider.code_of(&url)?).await?;
            return Ok(());
        }
    }
    bail!("no code after 10 redirects")
}

/// The full federated sign-in at Relais: choice page, the mock IdP's sign-in, callback,
/// consent when data is asked, code, token, userinfo. A new person each time.
pub struct FederatedFlow {
    pub provider: Provider,
    pub hub: Url,
    pub idp: String,
    pub scope: String,
    /// The consent form's ticked transfer, when the scope asks for data.
    pub transfer: Option<String>,
    /// Collects the access tokens, when set (setup of the checktoken workload).
    pub tokens: Option<Arc<Mutex<Vec<String>>>>,
    /// Keep the cookies (the session) after the flow.
    pub keep_session: bool,
    /// An agent's sign-in: the e-mail typed on the hub's first page (instead of the choice).
    pub email: Option<String>,
}

impl FederatedFlow {
    async fn sign_in(&self, vu: &mut VirtualUser) -> anyhow::Result<String> {
        if !self.keep_session {
            vu.clear_cookies();
        }
        let url = self.provider.authorization_url(&self.scope);
        let choice = vu.get(&url).await?;
        if choice.status() != 200 {
            bail!("choice page: {}", choice.status());
        }
        let page = choice.text().await?;
        let to_idp = match &self.email {
            None => {
                let choose = self.hub.join(&form_action(&page, "/choose").context("no choice form")?)?;
                location(&choose, &vu.post_form(&choose, &[("idp".into(), self.idp.clone())]).await?)?
            }
            Some(email) => {
                let route = self.hub.join(&form_action(&page, "/email").context("no e-mail form")?)?;
                location(&route, &vu.post_form(&route, &[("email".into(), email.clone())]).await?)?
            }
        };
        let page = vu.get(&to_idp).await?.text().await?;
        let mut form = hidden_inputs(&page);
        form.push(("identity".into(), "0".into()));
        let login = to_idp.join(&form_action(&page, "/authorize").context("no IdP form")?)?;
        let callback = location(&login, &vu.post_form(&login, &form).await?)?;
        let mut next = location(&callback, &vu.get(&callback).await?)?;
        if next.path().starts_with("/consentement/") {
            vu.get(&next).await?.bytes().await?;
            let mut answer = vec![("decision".to_owned(), "accepter".to_owned())];
            if let Some(transfer) = &self.transfer {
                answer.push(("transfert".into(), transfer.clone()));
            }
            next = location(&next, &vu.post_form(&next, &answer).await?)?;
        }
        let code = self.provider.code_of(&next)?;
        self.provider.redeem(vu, &code).await
    }
}

impl Flow for FederatedFlow {
    fn run<'a>(&'a self, vu: &'a mut VirtualUser) -> Boxed<'a> {
        Box::pin(async move {
            let token = self.sign_in(vu).await?;
            if let Some(tokens) = &self.tokens {
                if let Ok(mut tokens) = tokens.lock() {
                    tokens.push(token);
                }
            }
            Ok(())
        })
    }
}

/// Token introspection (Relais's checktoken, the peer's introspection endpoint), by a data
/// provider, over a set of live tokens.
pub struct IntrospectionFlow {
    pub url: Url,
    pub client_id: String,
    pub secret: String,
    pub tokens: Vec<String>,
    pub next: AtomicUsize,
}

impl IntrospectionFlow {
    /// The bench data provider's introspection at `url`, over the last 5000 of `tokens`.
    pub fn of_bench_dp(url: Url, tokens: &Mutex<Vec<String>>) -> Self {
        let tokens = tokens.lock().map(|t| t.iter().rev().take(5_000).cloned().collect()).unwrap_or_default();
        Self {
            url,
            client_id: "bench-dp".into(),
            secret: crate::hub::DP_SECRET.into(),
            tokens,
            next: AtomicUsize::new(0),
        }
    }
}

impl Flow for IntrospectionFlow {
    fn run<'a>(&'a self, vu: &'a mut VirtualUser) -> Boxed<'a> {
        Box::pin(async move {
            let index = self.next.fetch_add(1, Ordering::Relaxed) % self.tokens.len().max(1);
            let token = self.tokens.get(index).context("no token")?;
            let response = vu
                .http
                .post(self.url.clone())
                .basic_auth(&self.client_id, Some(&self.secret))
                .form(&[("token", token.as_str())])
                .send()
                .await?;
            let body = response.bytes().await?;
            if !body.windows(13).any(|w| w == b"\"active\":true") {
                bail!("inactive");
            }
            Ok(())
        })
    }
}

/// A trivial request, to show the load generator's own ceiling.
pub struct TrivialFlow {
    pub url: Url,
}

impl Flow for TrivialFlow {
    fn run<'a>(&'a self, vu: &'a mut VirtualUser) -> Boxed<'a> {
        Box::pin(async move {
            let response = vu.http.get(self.url.clone()).send().await?;
            response.bytes().await?;
            Ok(())
        })
    }
}
