//! Mock data providers (DPs): real HTTP APIs of a tax office, a family allowance office and
//! an address base. A service provider calls `GET {base}{api_path}` with the access token
//! the hub gave it; the DP asks the hub what the token covers (`POST {hub}/checktoken`,
//! RFC 7662 shape, authenticated as the DP with HTTP Basic) and answers with the data of
//! the granted scopes only, found from the pivot identity the hub returns.
//!
//! Answers of the API:
//! - `200` JSON: `sub` (the hub's pairwise `sub` for this DP) and one field per granted scope;
//! - `401` `{"error":"invalid_token"}` with `WWW-Authenticate: Bearer error="invalid_token"`:
//!   inactive token, expired token, or no scope of this DP;
//! - `401` `{"error":"invalid_request"}` with `WWW-Authenticate: Bearer`: no Bearer token;
//! - `404` `{"error":"not_found"}`: the person is not in this provider's records;
//! - `502` `{"error":"checktoken_failed"}`: the hub is unreachable, refused the DP's own
//!   credentials (its `401 invalid_client` is the DP's misconfiguration, not the SP's
//!   token's fault, so it is not passed on as `401`), or answered something unusable.

mod openapi;
mod records;

use crate::web::lock;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Timeout of the DP's calls to the hub.
const HUB_TIMEOUT: Duration = Duration::from_secs(5);

/// Which administration the mock stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DpKind {
    /// The tax office: reference tax income and household.
    Impots,
    /// The family allowance office: family quotient and children.
    Caf,
    /// The address base: postal address.
    Adresse,
}

impl DpKind {
    /// Every kind, in a stable order.
    pub const ALL: [DpKind; 3] = [DpKind::Impots, DpKind::Caf, DpKind::Adresse];

    /// Identifier of the provider at the hub.
    pub fn id(self) -> &'static str {
        match self {
            Self::Impots => "impots-donnees",
            Self::Caf => "caf",
            Self::Adresse => "adresse",
        }
    }

    /// Name shown to people (consent page, catalogue).
    pub fn name(self) -> &'static str {
        match self {
            Self::Impots => "Direction générale des finances publiques (démo)",
            Self::Caf => "Caisse d'allocations familiales (démo)",
            Self::Adresse => "Base adresse (démo)",
        }
    }

    /// The data scopes it serves: (scope, French label, French description of the data).
    pub fn scopes(self) -> &'static [(&'static str, &'static str, &'static str)] {
        match self {
            Self::Impots => &[
                (
                    "revenu_fiscal_reference",
                    "Revenu fiscal de référence",
                    "Le revenu fiscal de référence de votre dernier avis d'impôt sur le revenu, en euros.",
                ),
                (
                    "composition_foyer",
                    "Nombre de parts et personnes du foyer",
                    "Le nombre de parts fiscales et le nombre de personnes de votre foyer fiscal.",
                ),
            ],
            Self::Caf => &[
                (
                    "quotient_familial",
                    "Quotient familial",
                    "Votre quotient familial calculé par la CAF pour le mois en cours, en euros.",
                ),
                (
                    "enfants",
                    "Enfants à charge",
                    "Le prénom et la date de naissance de chacun des enfants à votre charge.",
                ),
            ],
            Self::Adresse => &[(
                "adresse_postale",
                "Adresse postale",
                "Votre adresse postale connue : numéro et voie, code postal, commune.",
            )],
        }
    }

    /// Path of its API, under its base URL.
    pub fn api_path(self) -> &'static str {
        match self {
            Self::Impots => "/api/revenus",
            Self::Caf => "/api/quotient-familial",
            Self::Adresse => "/api/adresse",
        }
    }

    fn owns(self, scope: &str) -> bool {
        self.scopes().iter().any(|(name, _, _)| *name == scope)
    }
}

/// Configuration of one mock data provider.
#[derive(Clone, Debug)]
pub struct MockDpSettings {
    /// Which provider it is.
    pub kind: DpKind,
    /// The hub's issuer; checktoken is `{hub_issuer}/checktoken`.
    pub hub_issuer: url::Url,
    /// The DP's client identifier at the hub.
    pub client_id: String,
    /// The DP's secret at the hub (sent with HTTP Basic).
    pub client_secret: String,
}

/// A handle on a running mock data provider; cheap to clone.
#[derive(Clone)]
pub struct MockDp {
    state: Arc<DpState>,
}

struct DpState {
    settings: MockDpSettings,
    base_url: url::Url,
    checktoken_url: String,
    authorization: String,
    http: reqwest::Client,
    answers: Mutex<Vec<Value>>,
}

impl MockDp {
    /// Serves the provider on `listener` in a spawned task and returns at once.
    pub async fn serve(listener: tokio::net::TcpListener, settings: MockDpSettings) -> std::io::Result<MockDp> {
        let base_url = url::Url::parse(&format!("http://{}", listener.local_addr()?)).map_err(std::io::Error::other)?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HUB_TIMEOUT)
            .build()
            .map_err(std::io::Error::other)?;
        let encode = |part: &str| url::form_urlencoded::byte_serialize(part.as_bytes()).collect::<String>();
        let authorization = format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", encode(&settings.client_id), encode(&settings.client_secret)))
        );
        let state = Arc::new(DpState {
            checktoken_url: format!("{}/checktoken", settings.hub_issuer.as_str().trim_end_matches('/')),
            settings,
            base_url,
            authorization,
            http,
            answers: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/", get(describe))
            .route(state.settings.kind.api_path(), get(api))
            .fallback(not_found)
            .with_state(state.clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "mock DP server stopped");
            }
        });
        Ok(MockDp { state })
    }

    /// `http://127.0.0.1:PORT` (the listener's address).
    pub fn base_url(&self) -> &url::Url {
        &self.state.base_url
    }

    /// Which provider it is.
    pub fn kind(&self) -> DpKind {
        self.state.settings.kind
    }

    /// The full URL of its API (`base_url` + `api_path`).
    pub fn api_url(&self) -> url::Url {
        let mut url = self.state.base_url.clone();
        url.set_path(self.state.settings.kind.api_path());
        url
    }

    /// Every JSON answer it got from checktoken (also error answers), oldest first.
    pub fn checktoken_answers(&self) -> Vec<Value> {
        lock(&self.state.answers).clone()
    }
}

/// A JSON answer with `Cache-Control: no-store`.
fn answer(status: StatusCode, body: Value) -> Response {
    (status, [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))], Json(body)).into_response()
}

fn unauthorized(error: &'static str, challenge: &'static str) -> Response {
    let mut response = answer(StatusCode::UNAUTHORIZED, json!({ "error": error }));
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    response
}

fn invalid_token() -> Response {
    unauthorized("invalid_token", "Bearer error=\"invalid_token\"")
}

fn hub_failed(description: &str) -> Response {
    answer(StatusCode::BAD_GATEWAY, json!({ "error": "checktoken_failed", "error_description": description }))
}

async fn not_found() -> Response {
    answer(StatusCode::NOT_FOUND, json!({ "error": "not_found" }))
}

/// `GET /`: what the provider is and the data it serves.
async fn describe(State(state): State<Arc<DpState>>) -> Response {
    let kind = state.settings.kind;
    let scopes: Vec<Value> = kind
        .scopes()
        .iter()
        .map(|(scope, label, description)| json!({ "scope": scope, "label": label, "description": description }))
        .collect();
    answer(StatusCode::OK, json!({ "id": kind.id(), "name": kind.name(), "api": kind.api_path(), "scopes": scopes }))
}

/// The Bearer token of the request, if any (scheme compared case-insensitively).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// `GET {api_path}` with `Authorization: Bearer <access token>`.
async fn api(State(state): State<Arc<DpState>>, headers: HeaderMap) -> Response {
    let Some(token) = bearer(&headers) else {
        return unauthorized("invalid_request", "Bearer");
    };
    let introspection = match state.checktoken(token).await {
        Ok(introspection) => introspection,
        Err(response) => return response,
    };
    if introspection.get("active").and_then(Value::as_bool) != Some(true) {
        return invalid_token();
    }
    if let Some(exp) = introspection.get("exp").and_then(Value::as_u64) {
        if exp <= crate::web::now_secs() {
            return invalid_token();
        }
    }
    let kind = state.settings.kind;
    let granted: Vec<&str> = introspection
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .split_whitespace()
        .filter(|scope| kind.owns(scope))
        .collect();
    if granted.is_empty() {
        return invalid_token();
    }
    let text =
        |name: &str| introspection.get("identity").and_then(|identity| identity.get(name)).and_then(Value::as_str);
    let (Some(family_name), Some(birthdate), Some(given_name)) =
        (text("family_name"), text("birthdate"), text("given_name"))
    else {
        return hub_failed("the checktoken answer has no usable identity");
    };
    let Some(mut data) = records::data_for(kind, family_name, birthdate, given_name, &granted) else {
        return not_found().await;
    };
    data.insert("sub".into(), introspection.get("sub").cloned().unwrap_or(Value::Null));
    answer(StatusCode::OK, Value::Object(data))
}

impl DpState {
    /// Asks the hub about `token`; the JSON answer, or the response to send to the SP.
    async fn checktoken(&self, token: &str) -> Result<Value, Response> {
        let sent = self
            .http
            .post(&self.checktoken_url)
            .header(header::AUTHORIZATION, &self.authorization)
            .header(header::ACCEPT, "application/json")
            .form(&[("token", token)])
            .send()
            .await;
        let response = sent.map_err(|error| {
            tracing::warn!(%error, url = %self.checktoken_url, "checktoken call failed");
            hub_failed("the hub is unreachable")
        })?;
        let status = response.status();
        let body: Option<Value> = response.json().await.ok();
        if let Some(body) = &body {
            lock(&self.answers).push(body.clone());
        }
        match (status, body) {
            (reqwest::StatusCode::OK, Some(body @ Value::Object(_))) => Ok(body),
            (reqwest::StatusCode::UNAUTHORIZED, _) => {
                tracing::warn!(dp = self.settings.kind.id(), "the hub refused the DP's credentials");
                Err(hub_failed("the hub refused the data provider's credentials"))
            }
            (status, _) => {
                tracing::warn!(%status, "unusable checktoken answer");
                Err(hub_failed("the hub's checktoken answer is unusable"))
            }
        }
    }
}
