//! A mock identity provider that is a real OpenID Connect provider over HTTP: discovery,
//! JWKS, authorization with PKCE, token, userinfo and RP-initiated logout, with injectable
//! faults and a record of every request it received.

mod agents;
mod authorize;
mod identities;
mod keys;
mod logout;
mod token;

pub use agents::{agent, ministry_agents, town_hall_agents};
pub use identities::default_identities;

use crate::web::{lock, Templates};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use keys::SigningKeys;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Largest request body the mock accepts (and records up to [`RECORDED_BODY_LIMIT`]).
const BODY_LIMIT: usize = 1024 * 1024;
/// How much of each request body is kept in [`ReceivedRequest::body`].
const RECORDED_BODY_LIMIT: usize = 64 * 1024;
/// Lifetime of codes, access tokens and ID tokens, in seconds.
const LIFETIME_SECS: u64 = 60;

/// Configuration of one mock identity provider.
#[derive(Clone, Debug)]
pub struct MockIdpSettings {
    /// Short identifier, e.g. `impots`; names the session cookie and prefixes subjects.
    pub id: String,
    /// Name shown on the login page, e.g. `Impôts (démo)`.
    pub display_name: String,
    /// Issuer, e.g. `http://127.0.0.1:PORT` (no path); published without trailing slash.
    pub issuer: url::Url,
    /// The one client (the hub) allowed to use this provider.
    pub client_id: String,
    /// Its secret (`client_secret_basic` or `client_secret_post`).
    pub client_secret: String,
    /// Registered redirect URIs (exact match).
    pub redirect_uris: Vec<String>,
    /// Registered post-logout redirect URIs (exact match).
    pub post_logout_redirect_uris: Vec<String>,
    /// The eIDAS level it asserts in `acr`: `eidas1`, `eidas2` or `eidas3`.
    pub acr: String,
    /// The people one can log in as.
    pub identities: Vec<TestIdentity>,
}

/// A test person as known by one identity provider.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TestIdentity {
    /// This provider's own subject for the person.
    pub sub: String,
    /// Given names, space separated.
    pub given_name: String,
    /// Birth family name.
    pub family_name: String,
    /// `YYYY-MM-DD`; presumed dates may have `00` parts (`1962-00-00`).
    pub birthdate: String,
    /// `female` or `male`.
    pub gender: String,
    /// INSEE commune code (5 characters), empty when born abroad.
    pub birthplace: String,
    /// INSEE country code, `99100` for France.
    pub birthcountry: String,
    /// E-mail address, if the provider knows one.
    pub email: Option<String>,
    /// Usage name, if any.
    pub preferred_username: Option<String>,
    /// Other claims by name, each released by the scope of its name (an agent directory's:
    /// `usual_name`, `uid`, `siret`, …).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub extra: std::collections::BTreeMap<String, String>,
}

/// A misbehaviour to inject, applied when tokens and userinfo are produced.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Behave correctly.
    None,
    /// Sign the ID token with another, unpublished key (same `kid`).
    BadSignature,
    /// ID token `aud` is `someone-else`.
    WrongAudience,
    /// ID token `nonce` is `not-the-nonce`.
    WrongNonce,
    /// Unsigned ID token: header `{"alg":"none"}` and an empty signature.
    AlgNone,
    /// Userinfo answers with another `sub` than the ID token.
    UserinfoOtherSub,
    /// Omit this claim from userinfo and from the ID token.
    MissingClaim(String),
    /// ID token `iss` is `https://evil.example`.
    WrongIssuer,
    /// ID token `exp` is in the past.
    ExpiredIdToken,
    /// The token response grants every requested scope but these (as a hub does when the
    /// person refuses a data transfer); the access token covers the granted ones only.
    WithholdScopes(Vec<String>),
    /// The token endpoint refuses the hub's client authentication (`invalid_client`), as it
    /// does when the hub's secret there is wrong.
    RefuseClient,
    /// The token endpoint never answers (the hub's timeout ends the wait).
    TokenHangs,
    /// The token endpoint answers a gateway's HTML error page (502), as when the IdP behind
    /// its proxy died during the sign-in.
    TokenGatewayError,
}

/// One HTTP request as the mock received it.
#[derive(Clone, Debug)]
pub struct ReceivedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// Path, without the query.
    pub path: String,
    /// Raw query string (empty when none).
    pub query: String,
    /// Raw body, cut at 64 KiB (lossy UTF-8).
    pub body: String,
    /// Headers in order, values as lossy UTF-8.
    pub headers: Vec<(String, String)>,
}

/// A handle on a running mock identity provider; cheap to clone.
#[derive(Clone)]
pub struct MockIdp {
    state: Arc<IdpState>,
}

impl MockIdp {
    /// Serves the provider on `listener` in a spawned task and returns at once.
    pub async fn serve(listener: tokio::net::TcpListener, settings: MockIdpSettings) -> std::io::Result<MockIdp> {
        let state = Arc::new(IdpState::new(settings)?);
        let app = router(state.clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "mock IdP server stopped");
            }
        });
        Ok(MockIdp { state })
    }

    /// The issuer as configured.
    pub fn issuer(&self) -> &url::Url {
        &self.state.settings.issuer
    }

    /// Injects a fault for the next tokens and userinfo answers (`Fault::None` heals).
    pub fn set_fault(&self, fault: Fault) {
        lock(&self.state.inner).fault = Some(fault);
    }

    /// Number of live browser sessions (created at login, removed at logout).
    pub fn active_sessions(&self) -> usize {
        lock(&self.state.inner).sessions.len()
    }

    /// Every request received so far, on all routes, oldest first.
    pub fn received_requests(&self) -> Vec<ReceivedRequest> {
        lock(&self.state.inner).requests.clone()
    }
}

/// Shared state of one mock provider.
struct IdpState {
    settings: MockIdpSettings,
    /// The issuer as published (no trailing slash).
    issuer: String,
    cookie_name: String,
    keys: SigningKeys,
    templates: Templates,
    inner: Mutex<Inner>,
}

/// A browser session at the provider.
struct IdpSession {
    identity: usize,
}

/// What a code was issued for; consumed by the token endpoint.
struct CodeGrant {
    identity: usize,
    redirect_uri: String,
    nonce: String,
    code_challenge: String,
    scopes: Vec<String>,
    auth_time: u64,
    expires_at: u64,
}

/// What an access token gives access to.
struct AccessGrant {
    identity: usize,
    scopes: Vec<String>,
    expires_at: u64,
}

#[derive(Default)]
struct Inner {
    fault: Option<Fault>,
    sessions: HashMap<String, IdpSession>,
    codes: HashMap<String, CodeGrant>,
    access_tokens: HashMap<String, AccessGrant>,
    /// ID tokens handed out (also the faulty ones), to recognise an `id_token_hint`.
    issued_id_tokens: Vec<String>,
    requests: Vec<ReceivedRequest>,
}

impl Inner {
    fn fault(&self) -> Fault {
        self.fault.clone().unwrap_or(Fault::None)
    }
}

impl IdpState {
    fn new(settings: MockIdpSettings) -> std::io::Result<Self> {
        let issuer = settings.issuer.as_str().trim_end_matches('/').to_owned();
        let safe_id: String = settings
            .id
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' })
            .collect();
        let keys = SigningKeys::generate().map_err(std::io::Error::other)?;
        let templates = Templates::new(&[
            ("idp_authorize.html", include_str!("../../templates/idp_authorize.html")),
            ("idp_message.html", include_str!("../../templates/idp_message.html")),
        ])
        .map_err(std::io::Error::other)?;
        Ok(Self {
            settings,
            issuer,
            cookie_name: format!("mockidp_{safe_id}"),
            keys,
            templates,
            inner: Mutex::new(Inner::default()),
        })
    }

    /// An absolute URL of one of our endpoints.
    fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    fn fault(&self) -> Fault {
        lock(&self.inner).fault()
    }
}

fn router(state: Arc<IdpState>) -> Router {
    let recorded = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/authorize", get(authorize::authorize))
        .route("/authorize/login", post(authorize::login))
        .route("/token", post(token::token))
        .route("/userinfo", get(token::userinfo).post(token::userinfo))
        .route("/logout", get(logout::logout))
        .route("/session", get(logout::session))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), record));
    // The design system's files are not recorded: tests look at what the hub sent.
    crate::web::with_dsfr(recorded).with_state(state)
}

/// Records the request (method, path, query, body, headers) before handling it.
async fn record(State(state): State<Arc<IdpState>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => return (axum::http::StatusCode::PAYLOAD_TOO_LARGE, "corps trop grand").into_response(),
    };
    let recorded = ReceivedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        body: String::from_utf8_lossy(&bytes[..bytes.len().min(RECORDED_BODY_LIMIT)]).into_owned(),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| (name.to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
            .collect(),
    };
    lock(&state.inner).requests.push(recorded);
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

use axum::response::IntoResponse as _;

async fn discovery(State(state): State<Arc<IdpState>>) -> Json<serde_json::Value> {
    Json(json!({
        "issuer": state.issuer,
        "authorization_endpoint": state.endpoint("/authorize"),
        "token_endpoint": state.endpoint("/token"),
        "userinfo_endpoint": state.endpoint("/userinfo"),
        "jwks_uri": state.endpoint("/jwks"),
        "end_session_endpoint": state.endpoint("/logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "scopes_supported": token::SCOPES.iter().map(|(scope, _)| *scope).collect::<Vec<_>>(),
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "nonce", "acr", "amr", "auth_time",
            "given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry",
            "email", "preferred_username"
        ],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "grant_types_supported": ["authorization_code"],
        "acr_values_supported": [state.settings.acr],
        "authorization_response_iss_parameter_supported": true,
    }))
}

async fn not_found(State(state): State<Arc<IdpState>>) -> Response {
    authorize::message(
        &state,
        axum::http::StatusCode::NOT_FOUND,
        "Page introuvable",
        "Cette adresse n'existe pas sur ce fournisseur d'identité.",
        None,
    )
}

async fn jwks(State(state): State<Arc<IdpState>>) -> Json<serde_json::Value> {
    Json(state.keys.jwks())
}
