//! A mock organisation registry, in the shape of INSEE's Sirene API: `GET /siret/{siret}`
//! answers the establishment, its organisation's name and its legal category (the code that
//! tells a State administration, a local authority, another public body or a private company).
//! The hub asks it for the organisation of an agent's SIRET (issue 12).
//!
//! Answers:
//! - `200` `{"etablissement": {"siret", "siren", "uniteLegale": {"denominationUniteLegale",
//!   "categorieJuridiqueUniteLegale"}}}`;
//! - `404` `{"header": {"statut": 404, "message": …}}`: no such establishment;
//! - `400` the same shape: not 14 digits.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

/// One establishment of the registry.
#[derive(Clone, Debug)]
pub struct MockEstablishment {
    /// 14 digits.
    pub siret: String,
    /// The organisation's name.
    pub name: String,
    /// INSEE's legal category ("catégorie juridique", 4 digits: 7120 a ministry's central
    /// service, 7210 a commune, 7364 a hospital, 5710 a simplified joint-stock company).
    pub legal_category: String,
}

impl MockEstablishment {
    fn new(siret: &str, name: &str, legal_category: &str) -> Self {
        Self { siret: siret.into(), name: name.into(), legal_category: legal_category.into() }
    }
}

/// The demo's organisations: a ministry's directorate, the demo town hall, a hospital and a
/// private company (whose agents a "public agents only" service refuses).
pub fn default_establishments() -> Vec<MockEstablishment> {
    vec![
        MockEstablishment::new("13002526500013", "Direction interministérielle du numérique", "7120"),
        MockEstablishment::new("21750001600019", "Commune de Démoville", "7210"),
        MockEstablishment::new("26750045200011", "Centre hospitalier de Démoville", "7364"),
        MockEstablishment::new("55210055400013", "Prestataire Numérique SAS", "5710"),
    ]
}

struct Registry {
    establishments: Vec<MockEstablishment>,
    lookups: AtomicUsize,
}

/// A running mock registry; cheap to clone.
#[derive(Clone)]
pub struct MockOrganisations {
    registry: Arc<Registry>,
}

impl MockOrganisations {
    /// Serves `establishments` on `listener` in a spawned task and returns at once.
    pub async fn serve(
        listener: tokio::net::TcpListener,
        establishments: Vec<MockEstablishment>,
    ) -> std::io::Result<MockOrganisations> {
        let registry = Arc::new(Registry { establishments, lookups: AtomicUsize::new(0) });
        let app = Router::new().route("/siret/{siret}", get(establishment)).with_state(registry.clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "mock organisation registry stopped");
            }
        });
        Ok(MockOrganisations { registry })
    }

    /// How many lookups it answered (to see the hub's cache at work).
    pub fn lookups(&self) -> usize {
        self.registry.lookups.load(Ordering::Relaxed)
    }
}

fn refusal(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "header": { "statut": status.as_u16(), "message": message } }))).into_response()
}

async fn establishment(State(registry): State<Arc<Registry>>, Path(siret): Path<String>) -> Response {
    registry.lookups.fetch_add(1, Ordering::Relaxed);
    if siret.len() != 14 || !siret.bytes().all(|b| b.is_ascii_digit()) {
        return refusal(StatusCode::BAD_REQUEST, format!("Le paramètre siret {siret:?} n'est pas un SIRET"));
    }
    let Some(found) = registry.establishments.iter().find(|e| e.siret == siret) else {
        return refusal(StatusCode::NOT_FOUND, format!("Aucun élément trouvé pour le siret {siret}"));
    };
    Json(json!({
        "etablissement": {
            "siret": found.siret,
            "siren": &found.siret[..9],
            "uniteLegale": {
                "denominationUniteLegale": found.name,
                "categorieJuridiqueUniteLegale": found.legal_category,
            },
        }
    }))
    .into_response()
}
