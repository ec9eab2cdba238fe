//! Service providers played by the `openidconnect` crate, and a whole sign-in through them.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreTokenResponse,
};
use openidconnect::{
    AdditionalClaims, AuthType, AuthenticationContextClass, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
    UserInfoClaims,
};
use serde_json::Value;

use relais_mocks::dp::DpKind;

use super::{location, query_param, through_choice, Browser, Platform};

/// Extra claims the SP reads.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PivotClaims {
    pub birthplace: Option<String>,
    pub birthcountry: Option<String>,
}
impl AdditionalClaims for PivotClaims {}

/// A service provider played by the `openidconnect` crate.
pub struct Sp {
    pub client_id: String,
    pub secret: Option<String>,
    pub redirect_uri: String,
    pub auth_type: AuthType,
    metadata: CoreProviderMetadata,
    pub http: reqwest::Client,
}

/// One authorization request of an SP, and what it must remember.
pub struct Request {
    pub url: String,
    pub state: String,
    pub nonce: Nonce,
    pub verifier: Option<PkceCodeVerifier>,
}

pub struct SignedIn {
    pub access_token: String,
    pub scope: Vec<String>,
    pub sub: String,
    pub acr: Option<String>,
    pub id_token: String,
    pub id_token_claims: Value,
    pub userinfo: Value,
}

impl Sp {
    pub async fn discover(platform: &Platform, client_id: &str, secret: Option<&str>, auth_type: AuthType) -> Sp {
        Self::discover_at(&platform.issuer, client_id, secret, auth_type).await
    }

    /// A service provider of the federation whose issuer is `issuer`.
    pub async fn discover_at(issuer: &str, client_id: &str, secret: Option<&str>, auth_type: AuthType) -> Sp {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let metadata =
            CoreProviderMetadata::discover_async(IssuerUrl::new(issuer.to_owned()).unwrap(), &http).await.unwrap();
        let host = client_id.to_owned();
        Sp {
            client_id: client_id.into(),
            secret: secret.map(str::to_owned),
            redirect_uri: format!("https://{host}.example/callback"),
            auth_type,
            metadata,
            http,
        }
    }

    fn client(
        &self,
    ) -> CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    > {
        CoreClient::from_provider_metadata(
            self.metadata.clone(),
            ClientId::new(self.client_id.clone()),
            self.secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(RedirectUrl::new(self.redirect_uri.clone()).unwrap())
        .set_auth_type(self.auth_type.clone())
    }

    /// An authorization request with PKCE, `acr_values` and extra parameters.
    pub fn request(&self, scopes: &[&str], acr: Option<&str>, extra: &[(&str, &str)]) -> Request {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let client = self.client();
        let mut builder = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(challenge);
        for scope in scopes {
            builder = builder.add_scope(Scope::new((*scope).into()));
        }
        if let Some(acr) = acr {
            builder = builder.add_auth_context_value(AuthenticationContextClass::new(acr.into()));
        }
        for (name, value) in extra {
            builder = builder.add_extra_param(*name, *value);
        }
        let (url, state, nonce) = builder.url();
        Request { url: url.to_string(), state: state.secret().clone(), nonce, verifier: Some(verifier) }
    }

    /// The code exchange, ID token verification and userinfo, all by `openidconnect`.
    pub async fn finish(&self, request: Request, redirect: &str) -> Result<SignedIn, String> {
        assert!(redirect.starts_with(&self.redirect_uri), "redirect to {redirect}");
        assert_eq!(query_param(redirect, "state").as_deref(), Some(request.state.as_str()));
        if let Some(error) = query_param(redirect, "error") {
            return Err(error);
        }
        let code = query_param(redirect, "code").ok_or("no code")?;
        let client = self.client();
        let mut exchange = client.exchange_code(AuthorizationCode::new(code)).unwrap();
        if let Some(verifier) = request.verifier {
            exchange = exchange.set_pkce_verifier(verifier);
        }
        let tokens: CoreTokenResponse =
            exchange.request_async(&self.http).await.map_err(|e| format!("token: {e:?}"))?;
        self.verify(&tokens, &request.nonce).await
    }

    pub async fn verify(&self, tokens: &CoreTokenResponse, nonce: &Nonce) -> Result<SignedIn, String> {
        let client = self.client();
        let id_token = tokens.id_token().ok_or("no id token")?;
        let verifier = client.id_token_verifier().set_allowed_algs([
            CoreJwsSigningAlgorithm::EcdsaP256Sha256,
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        ]);
        let claims = id_token.claims(&verifier, nonce).map_err(|e| format!("id token: {e:?}"))?;
        let userinfo: UserInfoClaims<PivotClaims, CoreGenderClaim> = client
            .user_info(tokens.access_token().clone(), Some(claims.subject().clone()))
            .unwrap()
            .request_async(&self.http)
            .await
            .map_err(|e| format!("userinfo: {e:?}"))?;
        Ok(SignedIn {
            access_token: tokens.access_token().secret().clone(),
            scope: tokens.scopes().map(|scopes| scopes.iter().map(|s| s.to_string()).collect()).unwrap_or_default(),
            sub: claims.subject().to_string(),
            acr: claims.auth_context_ref().map(|a| a.to_string()),
            id_token: id_token.to_string(),
            id_token_claims: serde_json::to_value(claims).unwrap(),
            userinfo: serde_json::to_value(&userinfo).unwrap(),
        })
    }
}

/// A full sign-in of a fresh browser at `sp` through `idp` as test identity `identity`.
pub async fn sign_in(
    platform: &Platform,
    browser: &Browser,
    sp: &Sp,
    scopes: &[&str],
    idp: &str,
    identity: usize,
) -> SignedIn {
    let request = sp.request(scopes, None, &[]);
    let page = browser.get(&request.url).await;
    assert_eq!(page.status(), 200, "choice page");
    let html = page.text().await.unwrap();
    let redirect = through_choice(browser, platform, &html, idp, identity).await;
    sp.finish(request, &redirect).await.unwrap()
}

/// The payload of a JWT, read without verification (the SP library verified it already).
pub fn jwt_payload(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// A sign-in at `sp` asking for `scopes`, up to the consent page; the request and the page URL.
pub async fn up_to_consent(
    platform: &Platform,
    browser: &Browser,
    sp: &Sp,
    scopes: &[&str],
    identity: usize,
) -> (Request, String, String) {
    let request = sp.request(scopes, None, &[]);
    let page = browser.get(&request.url).await;
    let answer = if page.status() == 200 {
        let html = page.text().await.unwrap();
        through_choice(browser, platform, &html, "impots", identity).await
    } else {
        location(&page)
    };
    assert!(answer.starts_with("/consentement/"), "the consent page comes before the code: {answer}");
    let url = platform.url(&answer).to_string();
    let html = browser.get(&url).await.text().await.unwrap();
    (request, url, html)
}

/// Answers the consent page; returns the SP's sign-in.
pub async fn answer(
    sp: &Sp,
    browser: &Browser,
    request: Request,
    consent_url: &str,
    form: &[(&str, &str)],
) -> SignedIn {
    let form: Vec<(String, String)> = form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let redirect = location(&browser.post(consent_url, &form).await);
    sp.finish(request, &redirect).await.unwrap()
}

pub fn dp(platform: &Platform, kind: DpKind) -> &relais_mocks::dp::MockDp {
    platform.dps.iter().find(|dp| dp.kind() == kind).unwrap()
}

pub async fn call_dp(platform: &Platform, kind: DpKind, access_token: &str) -> (u16, Value) {
    let response =
        reqwest::Client::new().get(dp(platform, kind).api_url()).bearer_auth(access_token).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}
