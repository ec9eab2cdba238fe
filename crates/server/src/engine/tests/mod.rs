//! Unit tests of the engine, without a socket: the hub assembled from memory parts (registry,
//! ephemeral store, traces, keys), a manual clock and a fake upstream that answers as an
//! identity provider would. One file per step; each refusal kind has its test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod authorize;
mod callback;
mod consent;
mod data;
mod logout;
pub mod outage;
mod token;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use relais_domain::data::DataScope;
use relais_domain::flow::UpstreamLogin;
use relais_domain::providers::{ClientAuthentication, IdTokenAlgorithm, UpstreamClientAuth};
use relais_domain::step::StepEvent;
use relais_domain::values::{Nonce, PkceVerifier};
use relais_domain::{
    DataProvider, DpId, EidasLevel, IdentityProvider, IdpId, IdpPolicy, ManualClock, PairwiseSecret, Profile, Scope,
    ScopeSet, Secret, SecretDigest, Sector, ServiceProvider, SpId, UnixTime, VerifiedClaims,
};
use relais_oidc::authorize::RawAuthorizationRequest;
use relais_oidc::jose::{HubKeys, KeyMaterial};
use relais_oidc::pkce::s256_challenge;
use relais_oidc::random::{digest_of, random_token};
use relais_oidc::upstream::{
    Upstream, UpstreamAuthorization, UpstreamError, UpstreamFailure, UpstreamIdentity, UpstreamStep,
};
use relais_store::{EphemeralStore, MemoryEphemeralStore, MemoryRegistry, MemoryStores, TraceStore};
use tokio::sync::broadcast;
use url::Url;

pub use outage::Down;

use super::support::{Browser, Next, Outcome};
use crate::error::{ErrorPage, PageError};
use crate::settings::{Brand, HubSettings};
use crate::state::{AppState, HubParts};

pub const ISSUER: &str = "https://relais.example";
pub const MAIRIE_SECRET: &str = "mairie-secret-0123456789abcdef0123456789";
pub const CAF_SECRET: &str = "caf-secret-0123456789abcdef0123456789abcd";
pub const VERIFIER: &str = "a-pkce-verifier-of-enough-length-0123456789abcdef";
pub const START: u64 = 1_800_000_000;

/// The hub's keys, made once for every test (RSA key generation is slow).
fn keys() -> HubKeys {
    static MATERIAL: OnceLock<Vec<KeyMaterial>> = OnceLock::new();
    let material = MATERIAL.get_or_init(|| {
        [IdTokenAlgorithm::ES256, IdTokenAlgorithm::RS256].map(|alg| KeyMaterial::generate(alg).unwrap()).to_vec()
    });
    HubKeys::from_material(material.clone()).unwrap()
}

/// Angela's claims, as an identity provider asserts them.
/// The test hub's `/metrics` token.
pub const METRICS_TOKEN: &str = "metrics-token-for-tests-0123456789abcdef";
pub const OPERATOR_TOKEN: &str = "operator-token-for-tests-0123456789abcdef";

pub fn angela() -> BTreeMap<String, String> {
    [
        ("given_name", "Angela Claire Louise"),
        ("family_name", "DUBOIS"),
        ("birthdate", "1962-08-24"),
        ("gender", "female"),
        ("birthplace", "75107"),
        ("birthcountry", "99100"),
        ("email", "angela@example.fr"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// An identity provider as the fake upstream plays it: the code sent back names the answer.
/// `angela`, `paul`: that person; `incomplete`: no birth date; `down`: unreachable;
/// `forged`: an ID token that does not verify; `low`: a level below the one asked.
pub struct FakeUpstream;

#[async_trait::async_trait]
impl Upstream for FakeUpstream {
    async fn authorization_url(&self, idp: &IdentityProvider) -> Result<UpstreamAuthorization, UpstreamError> {
        if idp.id.as_str() == "panne" {
            return Err(UpstreamError::unavailable(UpstreamStep::Discovery, "discovery failed"));
        }
        let state = random_token();
        let mut url = idp.issuer.join("/authorize").unwrap();
        url.query_pairs_mut().append_pair("state", &state);
        let (nonce, pkce_verifier) = (Nonce::new(random_token()), PkceVerifier::new(random_token()));
        Ok(UpstreamAuthorization { url, state, nonce, pkce_verifier })
    }

    async fn complete(
        &self,
        idp: &IdentityProvider,
        code: &str,
        login: &UpstreamLogin,
    ) -> Result<UpstreamIdentity, UpstreamError> {
        let mut claims = angela();
        match code {
            "angela" => {}
            "paul" => {
                claims.insert("given_name".into(), "Paul".into());
                claims.insert("gender".into(), "male".into());
            }
            "incomplete" => {
                claims.remove("birthdate");
            }
            "down" => return Err(UpstreamError::unavailable(UpstreamStep::Token, "operation timed out")),
            "forged" => {
                return Err(UpstreamError::new(
                    UpstreamFailure::IdTokenRejected,
                    UpstreamStep::IdToken,
                    "bad signature",
                ))
            }
            "low" => {
                let detail = format!("{} required", login.required_level);
                return Err(UpstreamError::new(UpstreamFailure::LevelNotReached, UpstreamStep::IdToken, detail));
            }
            other => panic!("unexpected code {other}"),
        }
        Ok(UpstreamIdentity {
            claims: VerifiedClaims::new(claims),
            acr: idp.level,
            id_token: format!("idp-token-{code}"),
        })
    }

    async fn logout_url(
        &self,
        idp: &IdentityProvider,
        _id_token: &str,
        state: &str,
    ) -> Result<Option<Url>, UpstreamError> {
        let mut url = idp.issuer.join("/logout").unwrap();
        url.query_pairs_mut().append_pair("state", state);
        Ok(Some(url))
    }

    /// Every fake IdP but `ameli` advertises RFC 9207.
    async fn sends_iss(&self, idp: &IdentityProvider) -> Result<bool, UpstreamError> {
        Ok(idp.id.as_str() != "ameli")
    }
}

fn idp(id: &str, level: EidasLevel, enabled: bool) -> IdentityProvider {
    IdentityProvider {
        id: IdpId::new(id),
        display_name: format!("IdP {id}"),
        issuer: Url::parse(&format!("https://{id}.example")).unwrap(),
        client_id: "relais".into(),
        client_secret: Secret::new("hub-secret"),
        level,
        enabled,
        scopes: vec!["openid".into()],
        require_acr: true,
        token_auth: UpstreamClientAuth::SecretBasic,
        profile: Profile::Citizen,
        agent_domains: Vec::new(),
        agent_default: false,
    }
}

pub fn mairie() -> ServiceProvider {
    ServiceProvider {
        id: SpId::new("mairie"),
        name: "Mairie".into(),
        authentication: ClientAuthentication::SecretBasic(SecretDigest::of("mairie", &Secret::new(MAIRIE_SECRET))),
        redirect_uris: vec!["https://mairie.example/cb".into()],
        post_logout_redirect_uris: vec!["https://mairie.example/bye".into()],
        scopes: ScopeSet::from_scopes([
            Scope::OpenId,
            Scope::IdentitePivot,
            Scope::Single(relais_domain::Claim::Email),
        ]),
        id_token_algorithm: IdTokenAlgorithm::ES256,
        sector: Sector::new("mairie"),
        idp_policy: IdpPolicy::All,
        minimum_level: EidasLevel::Low,
        profile: Profile::Citizen,
        agent_claims: Vec::new(),
        public_agents_only: false,
    }
}

fn other_sp(id: &str, authentication: ClientAuthentication) -> ServiceProvider {
    ServiceProvider {
        id: SpId::new(id),
        name: format!("Service {id}"),
        authentication,
        redirect_uris: vec![format!("https://{id}.example/cb")],
        post_logout_redirect_uris: vec![],
        scopes: ScopeSet::from_scopes([Scope::OpenId, Scope::IdentitePivot]),
        id_token_algorithm: IdTokenAlgorithm::RS256,
        sector: Sector::new(id),
        idp_policy: IdpPolicy::All,
        minimum_level: EidasLevel::Low,
        profile: Profile::Citizen,
        agent_claims: Vec::new(),
        public_agents_only: false,
    }
}

fn caf() -> DataProvider {
    DataProvider {
        id: DpId::new("caf"),
        name: "CAF".into(),
        scopes: vec![
            DataScope { name: "quotient_familial".into(), label: "Quotient familial".into(), description: "".into() },
            DataScope { name: "enfants".into(), label: "Enfants".into(), description: "".into() },
        ],
        secret: SecretDigest::of("caf", &Secret::new(CAF_SECRET)),
        signed_checktoken: false,
        allowed: [(SpId::new("mairie"), vec!["quotient_familial".into()])].into_iter().collect(),
        about: Default::default(),
    }
}

/// A hub on memory parts, and handles on them.
pub struct TestHub {
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub traces: Arc<MemoryStores>,
    pub steps: broadcast::Receiver<Arc<StepEvent>>,
}

impl TestHub {
    pub fn new() -> Self {
        Self::on(None)
    }

    /// The hub with `ephemeral` as its ephemeral store (a failing one, say).
    pub fn on(ephemeral: Option<Arc<dyn EphemeralStore>>) -> Self {
        let clock = Arc::new(ManualClock::new(UnixTime(START)));
        let registry = MemoryRegistry::new(
            vec![
                mairie(),
                other_sp(
                    "ecole",
                    ClientAuthentication::SecretBasic(SecretDigest::of("ecole", &Secret::new(MAIRIE_SECRET))),
                ),
                other_sp("appli", ClientAuthentication::None),
            ],
            vec![
                idp("impots", EidasLevel::Low, true),
                idp("ameli", EidasLevel::Substantial, true),
                idp("eteint", EidasLevel::High, false),
                idp("panne", EidasLevel::Low, true),
            ],
            vec![caf()],
        );
        let traces = Arc::new(MemoryStores::new());
        let settings = HubSettings {
            issuer: Url::parse(ISSUER).unwrap(),
            code_lifetime: 60,
            access_token_lifetime: 300,
            person_reference_lifetime: 86_400,
            id_token_lifetime: 300,
            session_lifetime: 1800,
            pending_lifetime: 900,
            pairwise_secret: PairwiseSecret::new(Secret::new("test-pairwise-secret-0123456789abcdef")),
            brand: Brand::default(),
            upstream_timeouts: Default::default(),
            metrics_token: Some(relais_domain::Secret::new(METRICS_TOKEN)),
            organisation_registry: None,
            operators: vec![crate::settings::OperatorCredential {
                name: "ops".into(),
                token: Secret::new(OPERATOR_TOKEN),
            }],
            portal: Some(crate::settings::PortalSettings {
                sandbox_identity_providers: vec![IdpId::new("impots")],
                sandbox_data_providers: vec![DpId::new("caf")],
                instructors: vec![],
            }),
            mailer: None,
            address_base: None,
        };
        let registry = Arc::new(registry);
        let parts = HubParts {
            settings,
            registry: registry.clone(),
            registry_writer: registry,
            ephemeral: ephemeral.unwrap_or_else(|| Arc::new(MemoryEphemeralStore::new(clock.clone()))),
            keys: keys(),
            key_store: traces.clone(),
            traces: traces.clone(),
            preferences: traces.clone(),
            portal: traces.clone(),
            outbox: traces.clone(),
            clock: clock.clone(),
        };
        let state = AppState::with_upstream(parts, Arc::new(FakeUpstream));
        let steps = state.subscribe_steps();
        Self { state, clock, traces, steps }
    }

    /// The steps emitted since the last call, by name and outcome.
    pub fn emitted(&mut self) -> Vec<(String, String)> {
        let mut steps = Vec::new();
        while let Ok(event) = self.steps.try_recv() {
            steps.push((event.step.as_str().to_owned(), event.outcome.clone()));
        }
        steps
    }

    pub async fn chain(&self) -> Vec<relais_domain::trace::TraceRecord> {
        self.traces.all().await.unwrap()
    }

    pub fn advance(&self, seconds: u64) {
        self.clock.advance(seconds);
    }
}

/// A browser: its binding and its session, as the cookies carry them.
pub fn browser() -> Browser {
    Browser { binding: digest_of(&random_token()), session_id: None, last_idp: None }
}

/// The authorization request of `client` with PKCE, for `scope`.
pub fn request(client: &str, scope: &str) -> RawAuthorizationRequest {
    RawAuthorizationRequest {
        client_id: Some(client.into()),
        redirect_uri: Some(format!("https://{client}.example/cb")),
        response_type: Some("code".into()),
        scope: Some(scope.into()),
        state: Some("sp-state".into()),
        nonce: Some("sp-nonce".into()),
        code_challenge: Some(s256_challenge(VERIFIER)),
        code_challenge_method: Some("S256".into()),
        ..Default::default()
    }
}

/// The OAuth error an SP got back, from a refusal sent to its redirect URI.
pub fn error_sent_back(result: Result<Outcome, PageError>) -> (String, Url) {
    match result {
        Err(PageError::ToService(url)) => {
            let url = Url::parse(&url).unwrap();
            let error = url.query_pairs().find(|(k, _)| k == "error").map(|(_, v)| v.into_owned()).unwrap();
            (error, url)
        }
        Err(other) => panic!("not sent back to the service: {other:?}"),
        Ok(_) => panic!("not refused"),
    }
}

/// The page a refusal shows the person.
pub fn page_of<T>(result: Result<T, PageError>) -> ErrorPage {
    match result {
        Err(PageError::Page(page) | PageError::PageWithReturn(page, _)) => page,
        Err(other) => panic!("not a page: {other:?}"),
        Ok(_) => panic!("not refused"),
    }
}

/// A query parameter of a URL.
pub fn param(url: &str, name: &str) -> Option<String> {
    Url::parse(url).unwrap().query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// The redirect of an outcome.
pub fn redirect_of(outcome: &Outcome) -> &str {
    match &outcome.next {
        Next::Redirect(url) | Next::ToIdp { url, .. } => url,
        Next::Choice { .. } => panic!("the choice page, not a redirect"),
        Next::AgentEmail { .. } => panic!("the agents' e-mail page, not a redirect"),
    }
}

/// A pending authorization's flow id, from the choice page.
pub fn flow_of(outcome: &Outcome) -> String {
    match &outcome.next {
        Next::Choice { flow, .. } | Next::AgentEmail { flow, .. } => flow.clone(),
        _ => panic!("not the choice page"),
    }
}

/// Runs a fresh sign-in of `client` for `scope` through `idp`, the upstream answering `code`;
/// what the callback gave, with the browser now holding the session.
pub async fn sign_in(
    hub: &TestHub,
    browser: &mut Browser,
    raw: &RawAuthorizationRequest,
    idp: &str,
    code: &str,
) -> Result<Outcome, PageError> {
    let choice = super::authorize(&hub.state, raw, browser).await?;
    let to_idp = match super::choose(&hub.state, &flow_of(&choice), &IdpId::new(idp), browser).await? {
        Next::ToIdp { url, .. } => url,
        _ => panic!("not sent to the IdP"),
    };
    let callback = super::IdpCallback {
        code: Some(code.into()),
        state: param(&to_idp, "state"),
        iss: Some(format!("https://{idp}.example/")),
        error: None,
    };
    let outcome = super::idp_callback(&hub.state, &IdpId::new(idp), &callback, browser).await?;
    if let Some(session) = &outcome.new_session {
        browser.session_id = Some(session.clone());
    }
    Ok(outcome)
}

/// The code sent to the service by a successful step.
pub fn code_of(outcome: &Outcome) -> String {
    let url = redirect_of(outcome);
    assert!(url.starts_with("https://"), "sent to the service: {url}");
    param(url, "code").expect("a code")
}

/// HTTP Basic credentials.
pub fn basic(client: &str, secret: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{client}:{secret}")))
}

/// mairie's token request for `code`, with the PKCE verifier of [`request`].
pub fn exchange(code: &str) -> relais_oidc::token::RawTokenRequest {
    relais_oidc::token::RawTokenRequest {
        grant_type: Some("authorization_code".into()),
        code: Some(code.into()),
        redirect_uri: Some("https://mairie.example/cb".into()),
        code_verifier: Some(VERIFIER.into()),
        ..Default::default()
    }
}

/// mairie's tokens for `code`.
pub async fn tokens(hub: &TestHub, code: &str) -> serde_json::Value {
    super::token(&hub.state, Some(&basic("mairie", MAIRIE_SECRET)), &exchange(code)).await.unwrap()
}
