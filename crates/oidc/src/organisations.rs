//! The hub's client of the organisation registry (INSEE's Sirene API shape, mocked by
//! `relais_mocks::organisations`): from an agent's SIRET, their organisation's name and kind.
//! Answers are kept for a while (an organisation's legal category does not change between two
//! sign-ins), so a sign-in asks the registry at most once per organisation per lifetime.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use relais_domain::agent::{OrganisationKind, Siret};
use url::Url;

/// How long an answer is reused.
const CACHE_LIFETIME: Duration = Duration::from_secs(3_600);

/// An organisation, as the registry describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organisation {
    /// The establishment.
    pub siret: Siret,
    /// The organisation's name.
    pub name: String,
    /// What it is.
    pub kind: OrganisationKind,
}

/// Why the registry gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum OrganisationError {
    /// It could not be reached, or answered an error.
    #[error("organisation registry unavailable: {0}")]
    Unavailable(String),
}

#[derive(serde::Deserialize)]
struct Answer {
    etablissement: Establishment,
}

#[derive(serde::Deserialize)]
struct Establishment {
    #[serde(rename = "uniteLegale")]
    unite_legale: UniteLegale,
}

#[derive(serde::Deserialize)]
struct UniteLegale {
    #[serde(rename = "denominationUniteLegale")]
    name: String,
    #[serde(rename = "categorieJuridiqueUniteLegale")]
    legal_category: String,
}

/// The registry at `base`, with its cache.
pub struct OrganisationRegistry {
    http: reqwest::Client,
    base: Url,
    cache: Mutex<HashMap<Siret, (Option<Organisation>, Instant)>>,
}

impl OrganisationRegistry {
    /// The registry answering `GET {base}/siret/{siret}`, waited for `timeout` at most.
    pub fn new(base: Url, timeout: Duration) -> Result<Self, OrganisationError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .build()
            .map_err(|e| OrganisationError::Unavailable(e.to_string()))?;
        Ok(Self { http, base, cache: Mutex::new(HashMap::new()) })
    }

    /// The organisation of `siret` (`None`: the registry knows no such establishment).
    pub async fn lookup(&self, siret: &Siret) -> Result<Option<Organisation>, OrganisationError> {
        if let Some(known) = self.cached(siret) {
            return Ok(known);
        }
        let unavailable = |e: &dyn std::fmt::Display| OrganisationError::Unavailable(e.to_string());
        let mut url = self.base.clone();
        url.set_path(&format!("{}/siret/{}", self.base.path().trim_end_matches('/'), siret.as_str()));
        let response = self.http.get(url).send().await.map_err(|e| unavailable(&e))?;
        let found = match response.status().as_u16() {
            200 => {
                let answer: Answer = response.json().await.map_err(|e| unavailable(&e))?;
                let unite = answer.etablissement.unite_legale;
                Some(Organisation {
                    siret: siret.clone(),
                    name: unite.name,
                    kind: OrganisationKind::from_legal_category(&unite.legal_category),
                })
            }
            404 => None,
            status => return Err(OrganisationError::Unavailable(format!("HTTP {status}"))),
        };
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(siret.clone(), (found.clone(), Instant::now()));
        }
        Ok(found)
    }

    fn cached(&self, siret: &Siret) -> Option<Option<Organisation>> {
        let cache = self.cache.lock().ok()?;
        let (found, at) = cache.get(siret)?;
        (at.elapsed() < CACHE_LIFETIME).then(|| found.clone())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use relais_mocks::organisations::{default_establishments, MockOrganisations};

    async fn registry() -> (OrganisationRegistry, MockOrganisations) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let mock = MockOrganisations::serve(listener, default_establishments()).await.unwrap();
        (OrganisationRegistry::new(base, Duration::from_secs(2)).unwrap(), mock)
    }

    #[tokio::test]
    async fn the_registry_tells_the_organisation_of_a_siret_once_per_lifetime() {
        let (registry, mock) = registry().await;
        let town = Siret::parse("21750001600019").unwrap();
        let found = registry.lookup(&town).await.unwrap().unwrap();
        assert_eq!((found.name.as_str(), found.kind), ("Commune de Démoville", OrganisationKind::LocalAuthority));
        let company = registry.lookup(&Siret::parse("55210055400013").unwrap()).await.unwrap().unwrap();
        assert!(!company.kind.is_public());
        assert_eq!(registry.lookup(&town).await.unwrap(), Some(found));
        assert_eq!(mock.lookups(), 2, "the second answer for the town came from the cache");
        assert_eq!(registry.lookup(&Siret::parse("13002526500021").unwrap()).await.unwrap(), None, "unknown");
    }

    #[tokio::test]
    async fn a_registry_that_does_not_answer_is_unavailable() {
        let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let registry =
            OrganisationRegistry::new(Url::parse(&format!("http://{gone}")).unwrap(), Duration::from_secs(1));
        let siret = Siret::parse("21750001600019").unwrap();
        assert!(matches!(registry.unwrap().lookup(&siret).await, Err(OrganisationError::Unavailable(_))));
    }
}
