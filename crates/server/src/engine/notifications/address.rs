//! The national address base (Base Adresse Nationale), through its search API
//! (`api-adresse.data.gouv.fr`'s shape: `GET {base}/search/?q=…&limit=…`, a GeoJSON
//! `FeatureCollection` whose features' `properties` hold `id`, `label`, `housenumber`, `street`,
//! `postcode`, `citycode`, `city` and `type`). A new address is one the base knows, to the
//! street at least: what the person types is only a question to it.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

/// How many candidates the person is offered.
pub const CANDIDATES: usize = 5;
/// How long the hub waits for the base.
const TIMEOUT: Duration = Duration::from_secs(5);

/// An address of the base, as the administrations receive it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// The base's key of the address (`75056_1234_00010`).
    pub id: String,
    /// As written on an envelope's last lines (`10 Rue de la Paix 75002 Paris`).
    pub label: String,
    /// The number in the street.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub housenumber: Option<String>,
    /// The street (or locality).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    /// The postcode.
    pub postcode: String,
    /// The INSEE code of the municipality.
    pub citycode: String,
    /// The municipality.
    pub city: String,
}

/// Why no address could be offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// The question is shorter than 3 or longer than 200 characters (the base's own limits).
    #[error("the address searched must be 3 to 200 characters")]
    BadQuery,
    /// The base did not answer, or not as it should.
    #[error("the national address base did not answer")]
    Unavailable,
}

#[derive(Deserialize)]
struct Collection {
    features: Vec<Feature>,
}

#[derive(Deserialize)]
struct Feature {
    properties: Properties,
}

#[derive(Deserialize)]
struct Properties {
    id: String,
    label: String,
    #[serde(rename = "type")]
    kind: String,
    housenumber: Option<String>,
    street: Option<String>,
    name: Option<String>,
    postcode: Option<String>,
    citycode: Option<String>,
    city: Option<String>,
}

impl Properties {
    /// The address, when it is one a letter can reach (a number or a street, not a whole
    /// municipality) and the base gave all its parts.
    fn into_address(self) -> Option<Address> {
        if !matches!(self.kind.as_str(), "housenumber" | "street" | "locality") {
            return None;
        }
        let street = self.street.or(if self.kind == "housenumber" { None } else { self.name });
        Some(Address {
            id: self.id,
            label: self.label,
            housenumber: self.housenumber,
            street,
            postcode: self.postcode?,
            citycode: self.citycode?,
            city: self.city?,
        })
    }
}

/// The base's candidates for `query`, best first.
pub async fn search(base: &Url, query: &str) -> Result<Vec<Address>, AddressError> {
    let query = query.trim();
    if !(3..=200).contains(&query.chars().count()) {
        return Err(AddressError::BadQuery);
    }
    let mut url = base.clone();
    url.set_path(&format!("{}/search/", base.path().trim_end_matches('/')));
    url.query_pairs_mut().append_pair("q", query).append_pair("limit", &CANDIDATES.to_string());
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|_| AddressError::Unavailable)?;
    let response = client.get(url).send().await.map_err(|_| AddressError::Unavailable)?;
    if !response.status().is_success() {
        return Err(AddressError::Unavailable);
    }
    let collection: Collection = response.json().await.map_err(|_| AddressError::Unavailable)?;
    Ok(collection.features.into_iter().filter_map(|f| f.properties.into_address()).take(CANDIDATES).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn properties(kind: &str, postcode: Option<&str>) -> Properties {
        Properties {
            id: "75102_7560_00010".into(),
            label: "10 Rue de la Paix 75002 Paris".into(),
            kind: kind.into(),
            housenumber: Some("10".into()),
            street: Some("Rue de la Paix".into()),
            name: Some("10 Rue de la Paix".into()),
            postcode: postcode.map(Into::into),
            citycode: Some("75102".into()),
            city: Some("Paris".into()),
        }
    }

    #[test]
    fn a_number_or_a_street_is_an_address_a_municipality_or_a_partial_answer_is_not() {
        let address = properties("housenumber", Some("75002")).into_address().unwrap();
        assert_eq!((address.housenumber.as_deref(), address.street.as_deref()), (Some("10"), Some("Rue de la Paix")));
        assert!(properties("street", Some("75002")).into_address().is_some());
        assert!(properties("municipality", Some("75002")).into_address().is_none());
        assert!(properties("housenumber", None).into_address().is_none());
    }
}
