//! A mock national address base, in the shape of the Base Adresse Nationale's search API
//! (`api-adresse.data.gouv.fr`): `GET /search/?q=…&limit=…` answers a GeoJSON
//! `FeatureCollection`, best match first, each feature's `properties` holding `id`, `label`,
//! `score`, `type` (`housenumber`, `street`, `municipality`), `housenumber`, `name`, `street`,
//! `postcode`, `citycode`, `city` and `context`. `q` of fewer than 3 or more than 200
//! characters is a `400` as at the real API. The hub validates a new address against it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use unicode_normalization::UnicodeNormalization;

/// One address of the base.
#[derive(Clone, Debug)]
pub struct MockAddress {
    /// The base's key (`95127_0420_00008`).
    pub id: &'static str,
    /// `housenumber`, `street` or `municipality`.
    pub kind: &'static str,
    /// The number, for a `housenumber`.
    pub housenumber: Option<&'static str>,
    /// The street (the municipality's name for a `municipality`).
    pub street: &'static str,
    /// The postcode.
    pub postcode: &'static str,
    /// The INSEE code of the municipality.
    pub citycode: &'static str,
    /// The municipality.
    pub city: &'static str,
    /// The department and region, as `context`.
    pub context: &'static str,
}

impl MockAddress {
    fn label(&self) -> String {
        match (self.kind, self.housenumber) {
            ("municipality", _) => self.city.to_owned(),
            (_, Some(number)) => format!("{number} {} {} {}", self.street, self.postcode, self.city),
            _ => format!("{} {} {}", self.street, self.postcode, self.city),
        }
    }

    fn feature(&self, score: f64) -> Value {
        let name = match self.housenumber {
            Some(number) => format!("{number} {}", self.street),
            None => self.street.to_owned(),
        };
        let mut properties = json!({
            "label": self.label(), "score": score, "id": self.id, "type": self.kind, "name": name,
            "postcode": self.postcode, "citycode": self.citycode, "city": self.city, "context": self.context,
        });
        if let Some(number) = self.housenumber {
            properties["housenumber"] = json!(number);
            properties["street"] = json!(self.street);
        } else if self.kind == "street" {
            properties["street"] = json!(self.street);
        }
        json!({ "type": "Feature", "geometry": { "type": "Point", "coordinates": [2.0, 49.0] }, "properties": properties })
    }
}

/// The demo's addresses: a few of Cergy, of Démoville (the demo's town; its codes are made up)
/// and of Lyon, a street and a municipality.
pub fn default_addresses() -> Vec<MockAddress> {
    let cergy = |id, number: Option<&'static str>, street| MockAddress {
        id,
        kind: if number.is_some() { "housenumber" } else { "street" },
        housenumber: number,
        street,
        postcode: "95000",
        citycode: "95127",
        city: "Cergy",
        context: "95, Val-d'Oise, Île-de-France",
    };
    let demoville = |id, number, street| MockAddress {
        id,
        kind: "housenumber",
        housenumber: Some(number),
        street,
        postcode: "75002",
        citycode: "75102",
        city: "Démoville",
        context: "75, Paris, Île-de-France",
    };
    vec![
        cergy("95127_0420_00008", Some("8"), "Boulevard du Port"),
        cergy("95127_0420_00010", Some("10"), "Boulevard du Port"),
        cergy("95127_0420", None, "Boulevard du Port"),
        cergy("95127_1230_00003", Some("3"), "Rue de la Gare"),
        demoville("75102_0001_00012", "12", "Rue de la Mairie"),
        demoville("75102_0002_00004", "4", "Place de l'Église"),
        MockAddress {
            id: "69383_3980_00021",
            kind: "housenumber",
            housenumber: Some("21"),
            street: "Rue de la République",
            postcode: "69002",
            citycode: "69382",
            city: "Lyon",
            context: "69, Rhône, Auvergne-Rhône-Alpes",
        },
        MockAddress {
            id: "95127",
            kind: "municipality",
            housenumber: None,
            street: "Cergy",
            postcode: "95000",
            citycode: "95127",
            city: "Cergy",
            context: "95, Val-d'Oise, Île-de-France",
        },
    ]
}

/// The words of `text`, lower-case, without accents or punctuation (`bd` as `boulevard`).
fn words(text: &str) -> Vec<String> {
    let plain: String = text.nfd().filter(|c| c.is_ascii()).collect::<String>().to_lowercase();
    plain
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| match word {
            "bd" | "bld" => "boulevard".to_owned(),
            "av" => "avenue".to_owned(),
            "pl" => "place".to_owned(),
            other => other.to_owned(),
        })
        .collect()
}

struct Base {
    addresses: Vec<MockAddress>,
    searches: AtomicUsize,
}

/// A running mock address base; cheap to clone.
#[derive(Clone)]
pub struct MockAddressBase {
    base: Arc<Base>,
}

impl MockAddressBase {
    /// Serves `addresses` on `listener` in a spawned task and returns at once.
    pub async fn serve(listener: tokio::net::TcpListener, addresses: Vec<MockAddress>) -> std::io::Result<Self> {
        let base = Arc::new(Base { addresses, searches: AtomicUsize::new(0) });
        let app = Router::new().route("/search/", get(search)).with_state(base.clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "mock address base stopped");
            }
        });
        Ok(Self { base })
    }

    /// How many searches it answered.
    pub fn searches(&self) -> usize {
        self.base.searches.load(Ordering::Relaxed)
    }
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
    limit: Option<String>,
}

fn refusal(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "code": 400, "message": message }))).into_response()
}

async fn search(State(base): State<Arc<Base>>, Query(query): Query<SearchQuery>) -> Response {
    base.searches.fetch_add(1, Ordering::Relaxed);
    let q = query.q.unwrap_or_default();
    let length = q.trim().chars().count();
    if !(3..=200).contains(&length) {
        return refusal("q must contain between 3 and 200 chars and start with a number or a letter");
    }
    let limit = match query.limit.as_deref().map(str::parse::<usize>) {
        None => 5,
        Some(Ok(limit)) if (1..=20).contains(&limit) => limit,
        Some(_) => return refusal("limit must be an integer between 1 and 20"),
    };
    let asked = words(&q);
    let mut found: Vec<(f64, &MockAddress)> = base
        .addresses
        .iter()
        .filter_map(|address| {
            let known = words(&address.label());
            let matched = asked.iter().filter(|word| known.contains(word)).count();
            let score = matched as f64 / asked.len().max(known.len()) as f64;
            (matched * 2 > asked.len()).then_some((score, address))
        })
        .collect();
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    let features: Vec<Value> = found.into_iter().take(limit).map(|(score, a)| a.feature(score)).collect();
    Json(json!({
        "type": "FeatureCollection", "version": "draft", "features": features,
        "attribution": "BAN (démo)", "licence": "ETALAB-2.0", "query": q, "limit": limit,
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_ignore_case_accents_punctuation_and_abbreviations() {
        assert_eq!(words("8, Bd du Port"), ["8", "boulevard", "du", "port"]);
        assert_eq!(words("Place de l'Église"), ["place", "de", "l", "eglise"]);
    }
}
