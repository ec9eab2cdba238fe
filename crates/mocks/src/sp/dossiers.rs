//! The town's files of canteen-price requests, shared by its two sites as a town hall's own
//! system would share them: the citizen site files a request with the person reference its
//! sign-in gave (the person sends no document), and the back-office, where an agent signs in
//! through the agent federation, instructs it: it exchanges the reference with the agent's
//! token for a token about that person (RFC 8693 token exchange at the hub), asks the CAF for
//! the family quotient with it, and sets the price band. The files live in memory, as the demo.

use super::error::chain;
use super::price_band;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use relais_domain::agent::reference::{
    ACCESS_TOKEN_TYPE, PERSON_REFERENCE_TOKEN_TYPE as PERSON_REFERENCE_TYPE,
    TOKEN_EXCHANGE_GRANT_TYPE as TOKEN_EXCHANGE,
};

/// The town's files, shared by the citizen site and the back-office.
#[derive(Clone, Debug, Default)]
pub struct Dossiers(Arc<Mutex<Vec<Dossier>>>);

/// Which side of the town's system a demo service provider is.
#[derive(Clone, Debug)]
pub enum Desk {
    /// The citizen site: it files requests.
    Citizens(Dossiers),
    /// The agents' back-office: it instructs them.
    BackOffice(Dossiers),
}

/// One canteen-price request.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Dossier {
    /// Its number, `CANT-0001`.
    pub numero: String,
    /// When it was filed, `02/12/2026` (Paris).
    pub depose_le: String,
    /// The person's names, as their sign-in gave them.
    pub demandeur: String,
    /// The person's `sub` at the citizen site (their requests are theirs to see).
    #[serde(skip)]
    pub sub: String,
    /// The sealed person reference, for the instruction.
    #[serde(skip)]
    pub reference: String,
    /// Where it stands.
    pub statut: Statut,
}

/// Where a request stands.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(tag = "etat", rename_all = "snake_case")]
pub enum Statut {
    /// Filed, waiting for an agent.
    Deposee,
    /// Instructed: the family quotient and the price band.
    Instruite { quotient_familial: i64, tranche: &'static str, par: String },
    /// The instruction failed; the message says why, in French.
    Bloquee { message: String },
}

fn lock(dossiers: &Dossiers) -> std::sync::MutexGuard<'_, Vec<Dossier>> {
    dossiers.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn today_in_paris() -> String {
    use relais_domain::civil_time::{civil_from_days, paris_offset};
    let now = crate::web::now_secs();
    let local = now as i64 + paris_offset(relais_domain::UnixTime(now));
    let (year, month, day) = civil_from_days(local.div_euclid(86_400));
    format!("{day:02}/{month:02}/{year}")
}

impl Dossiers {
    /// Files a request for the person `sub` named `demandeur` with `reference`: its number.
    pub fn file(&self, sub: &str, demandeur: String, reference: String) -> Dossier {
        let mut dossiers = lock(self);
        let dossier = Dossier {
            numero: format!("CANT-{:04}", dossiers.len() + 1),
            depose_le: today_in_paris(),
            demandeur,
            sub: sub.to_owned(),
            reference,
            statut: Statut::Deposee,
        };
        dossiers.push(dossier.clone());
        dossier
    }

    /// Every request, the newest first.
    pub fn all(&self) -> Vec<Dossier> {
        lock(self).iter().rev().cloned().collect()
    }

    /// The requests of the person `sub`, the newest first.
    pub fn of(&self, sub: &str) -> Vec<Dossier> {
        lock(self).iter().rev().filter(|d| d.sub == sub).cloned().collect()
    }

    fn reference(&self, numero: &str) -> Option<String> {
        lock(self).iter().find(|d| d.numero == numero).map(|d| d.reference.clone())
    }

    fn set(&self, numero: &str, statut: Statut) {
        if let Some(dossier) = lock(self).iter_mut().find(|d| d.numero == numero) {
            dossier.statut = statut;
        }
    }
}

/// What the back-office needs to instruct a request.
pub(super) struct Instruction<'a> {
    pub(super) http: &'a reqwest::Client,
    pub(super) token_endpoint: &'a str,
    pub(super) client_id: &'a str,
    pub(super) client_secret: &'a str,
    pub(super) caf_api: Option<&'a url::Url>,
    /// The agent's access token (granting the family quotient under the town's habilitation).
    pub(super) agent_token: &'a str,
    /// The agent, as shown on the file.
    pub(super) agent: String,
}

const TIMEOUT: Duration = Duration::from_secs(5);

impl Instruction<'_> {
    /// Instructs request `numero` of `dossiers`; `false` when there is no such request.
    pub(super) async fn instruct(&self, dossiers: &Dossiers, numero: &str) -> bool {
        let Some(reference) = dossiers.reference(numero) else { return false };
        let statut = match self.fetch(&reference).await {
            Ok(quotient_familial) => {
                Statut::Instruite { quotient_familial, tranche: price_band(quotient_familial), par: self.agent.clone() }
            }
            Err(message) => Statut::Bloquee { message },
        };
        dossiers.set(numero, statut);
        true
    }

    async fn fetch(&self, reference: &str) -> Result<i64, String> {
        let caf_api = self.caf_api.ok_or("Le service de la CAF n'est pas configuré sur ce back-office.")?;
        let form = [
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token", reference),
            ("subject_token_type", PERSON_REFERENCE_TYPE),
            ("actor_token", self.agent_token),
            ("actor_token_type", ACCESS_TOKEN_TYPE),
            ("scope", "quotient_familial"),
        ];
        let answer = self
            .http
            .post(self.token_endpoint)
            .basic_auth(self.client_id, Some(self.client_secret))
            .form(&form)
            .timeout(TIMEOUT)
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(error = chain(&e), "token exchange unreachable");
                "Relais n'a pas pu être joint : réessayez dans quelques minutes.".to_owned()
            })?;
        let status = answer.status();
        let body: Value = answer.json().await.unwrap_or_default();
        let Some(token) = body.get("access_token").and_then(Value::as_str).filter(|_| status.is_success()) else {
            let description = body.get("error_description").and_then(Value::as_str).unwrap_or_default();
            tracing::warn!(%status, description, "token exchange refused");
            return Err(format!(
                "Relais a refusé la consultation ({}) : {description}",
                body.get("error").and_then(Value::as_str).unwrap_or("erreur")
            ));
        };
        let data = self
            .http
            .get(caf_api.clone())
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(TIMEOUT)
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(error = chain(&e), "the CAF API is unreachable");
                "La CAF n'a pas pu être jointe : réessayez dans quelques minutes.".to_owned()
            })?;
        if data.status() == reqwest::StatusCode::NOT_FOUND {
            return Err("La CAF ne connaît pas de dossier au nom du demandeur.".into());
        }
        let body: Value = data.json().await.unwrap_or_default();
        body.get("quotient_familial")
            .and_then(Value::as_i64)
            .ok_or_else(|| "La CAF n'a pas transmis de quotient familial.".to_owned())
    }
}
