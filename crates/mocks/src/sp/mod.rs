//! The demo service provider: the website of a town hall, a real OpenID Connect relying
//! party of the hub (discovery, authorization code with PKCE, ID token verification,
//! userinfo, RP-initiated logout), talking to it over HTTP only.

mod caf;
mod dossiers;
mod error;
mod handlers;
mod hub;

use crate::web::Templates;
use axum::routing::get;
use axum::Router;
use error::SpError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub use dossiers::{Desk, Dossier, Dossiers, Statut};

/// Configuration of the demo service provider.
#[derive(Clone, Debug)]
pub struct DemoSpSettings {
    /// Where it is served, e.g. `http://localhost:PORT`.
    pub base_url: url::Url,
    /// The hub's issuer.
    pub hub_issuer: url::Url,
    /// Its client identifier at the hub.
    pub client_id: String,
    /// Its client secret at the hub (sent with `client_secret_basic`).
    pub client_secret: String,
    /// Name of the service, e.g. `Mairie de Démoville`.
    pub display_name: String,
    /// Scopes requested, e.g. `["openid", "identite_pivot", "email"]`; the family quotient
    /// procedure adds `quotient_familial` and `enfants`.
    pub scopes: Vec<String>,
    /// Full URL of the family allowance office's API (the CAF mock's
    /// `/api/quotient-familial`), called with the access token by the family quotient
    /// procedure; `None` when the procedure has no data provider.
    pub caf_api: Option<url::Url>,
    /// The side of the town's system it is, with the files it shares with the other side
    /// (`None`: a plain demo service, filing nothing).
    pub desk: Option<Desk>,
}

/// The price band of the school canteen for a family quotient (euros).
pub fn price_band(quotient_familial: i64) -> &'static str {
    match quotient_familial {
        i64::MIN..=500 => "Tranche A : 1,00 € le repas",
        501..=800 => "Tranche B : 2,10 € le repas",
        801..=1200 => "Tranche C : 3,30 € le repas",
        _ => "Tranche D : 4,50 € le repas",
    }
}

/// The procedure the person started from the home page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Procedure {
    /// Birth certificate request: identity only.
    Acte,
    /// School canteen price: identity and the family quotient from the CAF.
    Quotient,
    /// School canteen price instructed by the town: the person files a request with the
    /// person reference their sign-in gives, and an agent fetches the family quotient later.
    Demande,
}

/// Scopes the family quotient procedure adds to the configured ones.
const QUOTIENT_SCOPES: [&str; 2] = ["quotient_familial", "enfants"];

/// Serves the demo service provider on `listener` in a spawned task and returns at once.
pub async fn serve_demo_sp(listener: tokio::net::TcpListener, settings: DemoSpSettings) -> std::io::Result<()> {
    let state = Arc::new(SpState::new(settings)?);
    let app = Router::new()
        .route("/", get(handlers::home))
        .route("/connexion", get(handlers::connexion))
        .route("/callback", get(handlers::callback))
        .route("/deconnexion", get(handlers::deconnexion))
        .route("/deconnecte", get(handlers::deconnecte))
        .route("/dossiers/{numero}/instruire", axum::routing::post(handlers::instruire));
    let app = crate::web::with_dsfr(app).with_state(state);
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "demo SP server stopped");
        }
    });
    Ok(())
}

/// Name of the browser cookie keying the server-side session.
const SESSION_COOKIE: &str = "demo_sp_session";

/// A login started at `/connexion`, waiting for the callback.
struct PendingLogin {
    procedure: Procedure,
    csrf_state: String,
    nonce: String,
    pkce_verifier: String,
}

/// A person identified through the hub.
#[derive(serde::Serialize)]
struct SignedIn {
    sub: String,
    acr: Option<String>,
    /// Every claim received from userinfo, as displayed.
    claims: Vec<(String, String)>,
    /// The canteen price, for the family quotient procedure.
    tarif: Option<caf::Tarif>,
    /// The request just filed, for the procedure instructed by the town.
    dossier: Option<Dossier>,
    /// The anti-forgery token of the back-office's forms.
    csrf: String,
    /// The given and usual names of an agent, as the back-office shows who instructed.
    #[serde(skip)]
    display_name: String,
    #[serde(skip)]
    access_token: String,
    #[serde(skip)]
    id_token: String,
}

/// What the demo SP knows about one browser.
enum Session {
    Pending(PendingLogin),
    SignedIn(Box<SignedIn>),
}

struct SpState {
    settings: DemoSpSettings,
    /// `base_url` without trailing slash.
    base: String,
    http: reqwest::Client,
    hub: tokio::sync::OnceCell<hub::HubMetadata>,
    templates: Templates,
    sessions: Mutex<HashMap<String, Session>>,
}

impl SpState {
    fn new(settings: DemoSpSettings) -> std::io::Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(std::io::Error::other)?;
        let templates = Templates::new(&[
            ("sp_home.html", include_str!("../../templates/sp_home.html")),
            ("sp_message.html", include_str!("../../templates/sp_message.html")),
            ("sp_back_office.html", include_str!("../../templates/sp_back_office.html")),
        ])
        .map_err(std::io::Error::other)?;
        Ok(Self {
            base: settings.base_url.as_str().trim_end_matches('/').to_owned(),
            settings,
            http,
            hub: tokio::sync::OnceCell::new(),
            templates,
            sessions: Mutex::new(HashMap::new()),
        })
    }
}
