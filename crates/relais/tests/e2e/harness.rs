//! Starts a whole platform per test and drives it as a person and as service providers.

use std::sync::{Arc, OnceLock};

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreTokenResponse,
};
use openidconnect::{
    AdditionalClaims, AuthType, AuthenticationContextClass, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
    UserInfoClaims,
};
use relais::config::Config;
use relais_domain::{ManualClock, UnixTime};
use relais_mocks::idp::{default_identities, MockIdp, MockIdpSettings};
use relais_oidc::jose::{HubKeys, KeyMaterial};
use relais_store::{KeyStore, SqlStore, StoredSigningKey};
use reqwest::header::LOCATION;
use serde_json::Value;
use tokio::net::TcpListener;
use url::Url;

/// Keys shared by every hub of the test binary (RSA generation is slow).
pub fn shared_keys() -> Vec<StoredSigningKey> {
    static KEYS: OnceLock<Vec<StoredSigningKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        [
            (relais_domain::providers::IdTokenAlgorithm::RS256, "RS256"),
            (relais_domain::providers::IdTokenAlgorithm::ES256, "ES256"),
        ]
        .into_iter()
        .map(|(alg, name)| {
            let material = KeyMaterial::generate(alg).unwrap();
            StoredSigningKey {
                kid: material.kid,
                alg: name.into(),
                private_pem: material.private_pem,
                created_at: 0,
                not_before: 0,
                retire_at: None,
            }
        })
        .collect()
    })
    .clone()
}

/// Where a test platform keeps its state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backends {
    /// A fresh SQLite file and the in-memory ephemeral store.
    Local,
    /// A fresh PostgreSQL schema and a fresh Redis key prefix (`RELAIS_TEST_POSTGRES_URL`,
    /// `RELAIS_TEST_REDIS_URL`).
    Servers,
}

pub fn postgres_url() -> String {
    std::env::var("RELAIS_TEST_POSTGRES_URL").expect("RELAIS_TEST_POSTGRES_URL")
}

pub fn redis_url() -> String {
    std::env::var("RELAIS_TEST_REDIS_URL").expect("RELAIS_TEST_REDIS_URL")
}

/// A database URL of its own for one test: a temporary SQLite file, or a new PostgreSQL schema.
pub async fn fresh_database_url(backends: Backends) -> String {
    let name = format!("relais_test_{}", relais_oidc::random::random_token().to_lowercase().replace(['-', '_'], ""));
    match backends {
        Backends::Local => format!("sqlite://{}", std::env::temp_dir().join(format!("{name}.db")).display()),
        Backends::Servers => {
            let base = postgres_url();
            let admin = SqlStore::connect(&base).await.unwrap();
            sqlx::query(&format!("CREATE SCHEMA {name}")).execute(admin.pool()).await.unwrap();
            let separator = if base.contains('?') { '&' } else { '?' };
            format!("{base}{separator}options=-c%20search_path%3D{name}")
        }
    }
}

/// The three mock IdPs, registered for a hub at `issuer`, and their configuration blocks.
pub async fn start_mock_idps(issuer: &str) -> (Vec<MockIdp>, String) {
    let mut idps = Vec::new();
    let mut idp_toml = String::new();
    for (index, (id, name, level)) in IDPS.iter().enumerate() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let idp_issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let settings = MockIdpSettings {
            id: (*id).into(),
            display_name: (*name).into(),
            issuer: Url::parse(&idp_issuer).unwrap(),
            client_id: "relais-hub".into(),
            client_secret: format!("idp-secret-{id}"),
            redirect_uris: vec![format!("{issuer}/idp/{id}/callback")],
            post_logout_redirect_uris: vec![format!("{issuer}/idp/logout-callback")],
            acr: (*level).into(),
            identities: default_identities(id, index as u8),
        };
        idps.push(MockIdp::serve(listener, settings).await.unwrap());
        idp_toml.push_str(&format!(
            "[[identity_providers]]\nid = \"{id}\"\ndisplay_name = \"{name}\"\nissuer = \"{idp_issuer}\"\nclient_id = \"relais-hub\"\nclient_secret = \"idp-secret-{id}\"\neidas_level = \"{level}\"\n\n"
        ));
    }
    (idps, idp_toml)
}

/// The secret of a mock data provider at the hub.
pub fn dp_secret(id: &str) -> String {
    format!("dp-secret-{id}-0123456789abcdef0123456789")
}

/// The three mock data providers, checking tokens at the hub at `issuer`, and their
/// configuration: sp-a may ask the CAF for both its scopes and the tax office for the income;
/// no other SP may ask anything.
pub async fn start_mock_dps(issuer: &str) -> (Vec<relais_mocks::dp::MockDp>, String) {
    use relais_mocks::dp::{DpKind, MockDp, MockDpSettings};
    let mut dps = Vec::new();
    let mut toml = String::new();
    for kind in DpKind::ALL {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let settings = MockDpSettings {
            kind,
            hub_issuer: Url::parse(issuer).unwrap(),
            client_id: kind.id().into(),
            client_secret: dp_secret(kind.id()),
        };
        dps.push(MockDp::serve(listener, settings).await.unwrap());
        let allowed = match kind {
            DpKind::Caf => r#"{ "sp-a" = ["quotient_familial", "enfants"] }"#,
            DpKind::Impots => r#"{ "sp-a" = ["revenu_fiscal_reference"] }"#,
            DpKind::Adresse => "{}",
        };
        toml.push_str(&format!(
            "[[data_providers]]\nid = {}\nname = {}\nclient_secret = \"{}\"\nallowed_service_providers = {allowed}\n",
            toml::Value::String(kind.id().into()),
            toml::Value::String(kind.name().into()),
            dp_secret(kind.id())
        ));
        for (name, label, _) in kind.scopes() {
            toml.push_str(&format!(
                "[[data_providers.scopes]]\nname = \"{name}\"\nlabel = {}\n",
                toml::Value::String((*label).into())
            ));
        }
        toml.push('\n');
    }
    (dps, toml)
}

/// A key pair of an SP using `private_key_jwt`.
pub fn sp_jwt_keys() -> &'static HubKeys {
    static KEYS: OnceLock<HubKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        HubKeys::from_material(vec![KeyMaterial::generate(relais_domain::providers::IdTokenAlgorithm::ES256).unwrap()])
            .unwrap()
    })
}

pub const IDPS: [(&str, &str, &str); 3] = [
    ("impots", "Impôts", "eidas1"),
    ("ameli", "Assurance maladie", "eidas2"),
    ("numerique", "Identité numérique", "eidas3"),
];

pub struct Platform {
    pub dps: Vec<relais_mocks::dp::MockDp>,
    pub hub: Url,
    pub issuer: String,
    pub idps: Vec<MockIdp>,
    pub clock: Arc<ManualClock>,
    pub state: relais_server::AppState,
    pub config_toml: String,
    pub database_url: String,
    pub redis_prefix: String,
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

impl Platform {
    pub async fn start() -> Platform {
        Self::start_on(Backends::Local).await
    }

    pub async fn start_on(backends: Backends) -> Platform {
        Self::start_with(backends, None).await
    }

    /// With Redis reached at `redis_url` (a proxy, say) instead of `RELAIS_TEST_REDIS_URL`.
    pub async fn start_with(backends: Backends, redis: Option<String>) -> Platform {
        let hub_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hub_port = hub_listener.local_addr().unwrap().port();
        // The hub answers at `localhost`, the IdPs at `127.0.0.1`: a browser keeps their cookies
        // apart, as it would for different sites.
        let issuer = format!("http://localhost:{hub_port}");
        let (idps, idp_toml) = start_mock_idps(&issuer).await;
        let (dps, dp_toml) = start_mock_dps(&issuer).await;
        let jwks = sp_jwt_keys().jwks(0).to_string();
        let database_url = fresh_database_url(backends).await;
        let redis_prefix = format!("relais-test-{}:", relais_oidc::random::random_token());
        let storage = match backends {
            Backends::Local => format!("[storage]\ndatabase_url = \"{database_url}\"\n"),
            Backends::Servers => format!(
                "[storage]\ndatabase_url = \"{database_url}\"\nephemeral_url = \"{}\"\nredis_key_prefix = \"{redis_prefix}\"\n\
                 ephemeral_encryption_keys = [\"k1:{}\"]\n",
                redis.unwrap_or_else(redis_url),
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
            ),
        };
        let toml = format!(
            r#"
[hub]
issuer = "{issuer}"
pairwise_secret = "test-pairwise-secret-0123456789abcdef"

{storage}

{idp_toml}
{dp_toml}
[[service_providers]]
client_id = "sp-a"
name = "Mairie A"
client_secret = "secret-a-for-tests-0123456789abcdef"
redirect_uris = ["https://sp-a.example/callback"]
post_logout_redirect_uris = ["https://sp-a.example/logged-out"]
scopes = ["openid", "identite_pivot", "email"]
id_token_signed_response_alg = "ES256"

[[service_providers]]
client_id = "sp-b"
name = "Caisse B"
token_endpoint_auth_method = "client_secret_post"
client_secret = "secret-b-for-tests-0123456789abcdef"
redirect_uris = ["https://sp-b.example/callback"]
scopes = ["openid", "given_name", "family_name"]
id_token_signed_response_alg = "RS256"

[[service_providers]]
client_id = "sp-jwt"
name = "Service JWT"
token_endpoint_auth_method = "private_key_jwt"
jwks = '{jwks}'
redirect_uris = ["https://sp-jwt.example/callback"]
scopes = ["openid", "birth"]

[[service_providers]]
client_id = "sp-public"
name = "Application mobile"
token_endpoint_auth_method = "none"
redirect_uris = ["https://sp-public.example/callback"]
scopes = ["openid", "profile"]

[[service_providers]]
client_id = "sp-restricted"
name = "Service restreint"
client_secret = "secret-r-for-tests-0123456789abcdef"
redirect_uris = ["https://sp-restricted.example/callback"]
scopes = ["openid"]
allowed_idps = ["impots"]
"#
        );
        let config = Config::from_toml(&toml, &|_| None).unwrap();
        let clock = Arc::new(ManualClock::new(UnixTime(now())));
        let sql = relais::launch::open_database(&config).await.unwrap();
        if sql.load().await.unwrap().is_empty() {
            for key in shared_keys() {
                sql.add(&key).await.unwrap();
            }
        }
        let ephemeral = relais::launch::ephemeral_store(&config, clock.clone()).unwrap();
        let state = relais::launch::assemble_with(&config, sql, ephemeral, clock.clone()).await.unwrap();
        tokio::spawn(relais_server::serve(hub_listener, state.clone()));
        Platform {
            dps,
            hub: Url::parse(&issuer).unwrap(),
            issuer,
            idps,
            clock,
            state,
            config_toml: toml,
            database_url,
            redis_prefix,
        }
    }

    /// The platform's configuration, parsed again.
    pub fn config(&self) -> Config {
        Config::from_toml(&self.config_toml, &|_| None).unwrap()
    }

    /// Another hub node on the same stores, as behind one load balancer; its base URL.
    pub async fn add_node(&self) -> Url {
        let config = Config::from_toml(&self.config_toml, &|_| None).unwrap();
        let sql = relais::launch::open_database(&config).await.unwrap();
        let ephemeral = relais::launch::ephemeral_store(&config, self.clock.clone()).unwrap();
        let state = relais::launch::assemble_with(&config, sql, ephemeral, self.clock.clone()).await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://localhost:{}", listener.local_addr().unwrap().port())).unwrap();
        tokio::spawn(relais_server::serve(listener, state));
        url
    }

    /// Every trace recorded, in order.
    pub async fn state_traces(&self) -> Vec<relais_domain::trace::TraceRecord> {
        use relais_store::TraceStore;
        relais_store::SqlStore::connect(&self.database_url).await.unwrap().all().await.unwrap()
    }

    pub fn idp(&self, id: &str) -> &MockIdp {
        let index = IDPS.iter().position(|(i, _, _)| *i == id).unwrap();
        &self.idps[index]
    }

    pub fn url(&self, path: &str) -> Url {
        self.hub.join(path).unwrap()
    }
}

/// A person's browser: keeps cookies, follows no redirect by itself.
pub struct Browser {
    pub http: reqwest::Client,
}

impl Browser {
    pub fn new() -> Self {
        Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.unwrap()
    }

    pub async fn post(&self, url: &str, form: &[(String, String)]) -> reqwest::Response {
        self.http.post(url).form(form).send().await.unwrap()
    }
}

pub fn location(response: &reqwest::Response) -> String {
    assert!(response.status().is_redirection(), "expected a redirect, got {}", response.status());
    response.headers().get(LOCATION).unwrap().to_str().unwrap().to_owned()
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    Url::parse(url).unwrap().query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

fn unescape(value: &str) -> String {
    value
        .replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of attribute `name` in each tag of `html` that contains `marker`.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

/// The hidden inputs of the first form of `html`.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    html.split('<')
        .filter(|tag| tag.starts_with("input") && tag.contains("type=\"hidden\""))
        .filter_map(|tag| Some((attribute(tag, "name")?, attribute(tag, "value")?)))
        .collect()
}

/// The action of the first form of `html`.
pub fn form_action(html: &str) -> String {
    html.split('<').find(|tag| tag.starts_with("form")).and_then(|tag| attribute(tag, "action")).unwrap()
}

/// The IdP ids offered on a choice page.
pub fn offered_idps(html: &str) -> Vec<String> {
    html.split('<')
        .filter(|tag| tag.starts_with("button") && tag.contains("name=\"idp\""))
        .filter_map(|tag| attribute(tag, "value"))
        .collect()
}

/// From the choice page to the SP's redirect: picks `idp`, signs in there as test identity
/// `identity`, and returns the hub's final redirect (to the SP).
pub async fn through_choice(
    browser: &Browser,
    platform: &Platform,
    choice_page: &str,
    idp: &str,
    identity: usize,
) -> String {
    let action = platform.url(&form_action(choice_page));
    let to_idp = browser.post(action.as_str(), &[("idp".into(), idp.into())]).await;
    let idp_url = location(&to_idp);
    at_idp(browser, &idp_url, identity).await
}

/// At the IdP's sign-in page: picks test identity `identity`, follows back to the hub, and
/// returns the hub's redirect to the SP.
pub async fn at_idp(browser: &Browser, idp_url: &str, identity: usize) -> String {
    let page = browser.get(idp_url).await;
    assert_eq!(page.status(), 200, "IdP sign-in page");
    let idp_base = Url::parse(idp_url).unwrap();
    let html = page.text().await.unwrap();
    let mut form = hidden_inputs(&html);
    form.push(("identity".into(), identity.to_string()));
    let back = browser.post(idp_base.join(&form_action(&html)).unwrap().as_str(), &form).await;
    let callback = location(&back);
    let answer = browser.get(&callback).await;
    if answer.status().is_redirection() {
        location(&answer)
    } else {
        format!("status:{}:{}", answer.status().as_u16(), answer.text().await.unwrap())
    }
}

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
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(platform.issuer.clone()).unwrap(), &http)
            .await
            .unwrap();
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
