//! The public catalogue: `/catalogue` for people, `/catalogue.json` as open data (any site may
//! read it: `Access-Control-Allow-Origin: *`, nothing personal in it), described by the JSON
//! Schema at `/catalogue.schema.json`; each provider's page at `/catalogue/{id}`, with its
//! OpenAPI description at `/catalogue/{id}/openapi.json` when it publishes one.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json};

use crate::engine;
use crate::error::{ErrorPage, PageError};
use crate::i18n::Locale;
use crate::state::AppState;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/catalogue", get(page))
        .route("/catalogue.json", get(json))
        .route("/catalogue.schema.json", get(schema))
        .route("/catalogue/{id}", get(provider_page))
        .route("/catalogue/{id}/openapi.json", get(openapi))
}

/// A provider's page: what the catalogue says of it, and its API's operations.
async fn provider_page(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (catalogue, about) =
        engine::catalogue::provider(&state, &id).await?.ok_or(PageError::Page(ErrorPage::NotFound))?;
    let provider = catalogue.providers.first().ok_or(PageError::Page(ErrorPage::NotFound))?;
    Ok(state.pages.catalogue_provider(&locale, &catalogue, provider, about.api.as_ref()).into_response())
}

/// A provider's OpenAPI description, as it gave it (open data too).
async fn openapi(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, PageError> {
    let found = engine::catalogue::provider(&state, &id).await?;
    let document = found
        .and_then(|(_, about)| about.api.as_ref().map(|api| api.document.clone()))
        .ok_or(PageError::Page(ErrorPage::NotFound))?;
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")),
        (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60")),
    ];
    Ok((headers, document).into_response())
}

/// The JSON Schema (2020-12) of `/catalogue.json`, published beside it.
pub const CATALOGUE_SCHEMA: &str = include_str!("../../schemas/catalogue.schema.json");

async fn schema() -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("application/schema+json")),
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")),
        (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
    ];
    (headers, CATALOGUE_SCHEMA).into_response()
}

async fn page(State(state): State<AppState>, Extension(locale): Extension<Locale>) -> Result<Response, PageError> {
    let catalogue = engine::catalogue::catalogue(&state).await?;
    Ok(state.pages.catalogue(&locale, &catalogue).into_response())
}

async fn json(State(state): State<AppState>) -> Result<Response, crate::error::ApiError> {
    let catalogue = engine::catalogue::catalogue(&state).await?;
    let mut response = Json(catalogue).into_response();
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    let described_by = HeaderValue::from_static("</catalogue.schema.json>; rel=\"describedby\"");
    response.headers_mut().insert(header::LINK, described_by);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// Every object of `value` has exactly the properties its `schema` lists (all required):
    /// the hand-written schema cannot drift from the types it describes.
    fn same_shape(schema: &Value, value: &Value, defs: &Value, at: &str) {
        // A nullable value: null, or the branch that is not.
        if let Some(branches) = schema.get("oneOf").and_then(Value::as_array) {
            if value.is_null() {
                assert!(branches.iter().any(|b| b["type"] == "null"), "{at}: null not allowed");
                return;
            }
            let branch = branches.iter().find(|b| b["type"] != "null").unwrap();
            return same_shape(branch, value, defs, at);
        }
        let schema = match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => &defs[reference.trim_start_matches("#/$defs/")],
            None => schema,
        };
        match value {
            Value::Object(object) => {
                let properties = schema["properties"].as_object().unwrap_or_else(|| panic!("{at}: no properties"));
                let mut expected: Vec<&String> = properties.keys().collect();
                let mut found: Vec<&String> = object.keys().collect();
                expected.sort();
                found.sort();
                assert_eq!(found, expected, "{at}");
                let required: Vec<&str> =
                    schema["required"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
                assert_eq!(required.len(), properties.len(), "{at}: every property is required");
                for (key, inner) in object {
                    same_shape(&properties[key], inner, defs, &format!("{at}.{key}"));
                }
            }
            Value::Array(items) => items.iter().for_each(|item| same_shape(&schema["items"], item, defs, at)),
            _ => {}
        }
    }

    #[test]
    fn the_published_schema_describes_the_catalogue_as_serialised() {
        use relais_domain::catalogue::{
            Availability, Catalogue, Figures, HabilitationEntry, OrganisationEntry, ProviderEntry, ScopeEntry,
            ServiceEntry,
        };
        let organisation = OrganisationEntry { name: "Commune de Démoville".into(), siret: "21750001600019".into() };
        let catalogue = Catalogue {
            figures_since: 1,
            providers: vec![ProviderEntry {
                id: "caf".into(),
                name: "CAF".into(),
                scopes: vec![ScopeEntry { scope: "qf".into(), label: "QF".into(), description: "d".into() }],
                with_person_sign_in: true,
                services: vec![
                    ServiceEntry { name: "Mairie".into(), organisation: Some(organisation), scopes: vec!["qf".into()] },
                    ServiceEntry { name: "Crèche".into(), organisation: None, scopes: vec!["qf".into()] },
                ],
                habilitations: vec![HabilitationEntry {
                    id: "h".into(),
                    organisation: "217500016".into(),
                    procedure: "Cantine".into(),
                    legal_basis: "Loi".into(),
                    legal_basis_url: "https://legifrance.example/".into(),
                    scopes: vec!["qf".into()],
                    expires_at: 1,
                }],
                figures: Figures { transfers: 2, documents_avoided: 1 },
                eligibility: "Les collectivités".into(),
                rate_limit_per_minute: Some(600),
                openapi_url: Some("/catalogue/caf/openapi.json".into()),
                availability: Some(Availability { checks: 3, answered: 2 }),
            }],
        };
        let schema: Value = serde_json::from_str(super::CATALOGUE_SCHEMA).unwrap();
        same_shape(&schema, &serde_json::to_value(&catalogue).unwrap(), &schema["$defs"], "catalogue");
    }
}
