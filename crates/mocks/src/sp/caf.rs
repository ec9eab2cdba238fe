//! The family quotient procedure: with the access token the hub gave, the demo SP asks the
//! family allowance office (CAF) for the person's family quotient, server side, and turns it
//! into the school canteen's price band. No supporting document is asked for.

use super::error::chain;
use super::{price_band, SpState};
use serde_json::Value;
use std::time::Duration;

/// Timeout of the call to the CAF.
const CAF_TIMEOUT: Duration = Duration::from_secs(5);

/// A child as the CAF transmits them.
#[derive(Clone, Debug, serde::Serialize)]
pub(super) struct Enfant {
    prenom: String,
    date_naissance: String,
}

/// The outcome of the family quotient procedure, shown on the home page.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub(super) enum Tarif {
    /// The CAF gave the quotient: the price band follows.
    Calcule { quotient_familial: i64, tranche: &'static str, enfants: Option<Vec<Enfant>> },
    /// The person did not allow the transfer of the quotient.
    Refuse,
    /// The quotient could not be obtained; the message says why, in French.
    Indisponible { message: &'static str },
}

const CAF_UNAVAILABLE: &str = "Le service de la Caisse d'allocations familiales n'a pas pu être joint. \
     Réessayez dans quelques minutes, ou déposez votre attestation CAF au guichet de la mairie.";
const CAF_REFUSED: &str = "La Caisse d'allocations familiales n'a pas accepté l'autorisation transmise \
     (elle a peut-être expiré). Recommencez la démarche, ou déposez votre attestation CAF au guichet.";
const CAF_UNKNOWN: &str = "La Caisse d'allocations familiales ne connaît pas de dossier à votre nom. \
     Si vous êtes allocataire, déposez votre attestation CAF au guichet de la mairie.";
const CAF_NOT_CONFIGURED: &str = "Le calcul du tarif à partir du quotient familial n'est pas disponible \
     sur ce site pour le moment. Déposez votre attestation CAF au guichet de la mairie.";

impl SpState {
    /// The canteen price for a person whose token grants `granted` scopes.
    pub(super) async fn tarif(&self, granted: &[String], access_token: &str) -> Tarif {
        if !granted.iter().any(|scope| scope == "quotient_familial") {
            return Tarif::Refuse;
        }
        let Some(caf_api) = &self.settings.caf_api else {
            return Tarif::Indisponible { message: CAF_NOT_CONFIGURED };
        };
        let sent = self
            .http
            .get(caf_api.clone())
            .bearer_auth(access_token)
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(CAF_TIMEOUT)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(error) => {
                tracing::warn!(error = chain(&error), "the CAF API is unreachable");
                return Tarif::Indisponible { message: CAF_UNAVAILABLE };
            }
        };
        match response.status() {
            reqwest::StatusCode::OK => {}
            reqwest::StatusCode::UNAUTHORIZED | reqwest::StatusCode::FORBIDDEN => {
                return Tarif::Indisponible { message: CAF_REFUSED }
            }
            reqwest::StatusCode::NOT_FOUND => return Tarif::Indisponible { message: CAF_UNKNOWN },
            status => {
                tracing::warn!(%status, "the CAF API failed");
                return Tarif::Indisponible { message: CAF_UNAVAILABLE };
            }
        }
        let body: Value = match response.json().await {
            Ok(body) => body,
            Err(error) => {
                tracing::warn!(error = chain(&error), "the CAF API answered no JSON");
                return Tarif::Indisponible { message: CAF_UNAVAILABLE };
            }
        };
        let Some(quotient_familial) = body.get("quotient_familial").and_then(Value::as_i64) else {
            tracing::warn!("the CAF API answered without quotient_familial");
            return Tarif::Indisponible { message: CAF_UNAVAILABLE };
        };
        let enfants = body.get("enfants").and_then(Value::as_array).map(|children| {
            children
                .iter()
                .map(|child| {
                    let text = |name: &str| child.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
                    Enfant { prenom: text("prenom"), date_naissance: text("date_naissance") }
                })
                .collect()
        });
        Tarif::Calcule { quotient_familial, tranche: price_band(quotient_familial), enfants }
    }
}
