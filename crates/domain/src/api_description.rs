//! What the public catalogue says of a data provider beyond its data, as api.gouv.fr's page of
//! an API does (`research/anchors.md` §5): who may ask for its data, its rate limit, and its
//! OpenAPI description. The description is checked when the provider is registered (an OpenAPI
//! 3 document: `openapi`, `info.title`, `paths`) and its operations read once, so the
//! catalogue's page shows them without reading the document again; the document itself is kept
//! as it was given, to be published beside the page.

use serde_json::Value;

/// The largest description accepted (bytes).
pub const MAX_DESCRIPTION_BYTES: usize = 512 * 1024;
/// The most operations read from a description.
pub const MAX_OPERATIONS: usize = 200;

/// What the catalogue says of a provider beyond its data.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProviderAbout {
    /// Who may ask for its data (api.gouv.fr's "Qui peut l'utiliser ?"), as the provider says.
    #[serde(default)]
    pub eligibility: String,
    /// Its rate limit: requests per minute and per service, when it has one.
    #[serde(default)]
    pub rate_limit_per_minute: Option<u32>,
    /// Its OpenAPI description, when it publishes one.
    #[serde(default)]
    pub api: Option<ApiDescription>,
    /// Where the hub checks once a minute that it answers (a `GET` answered `2xx`): its
    /// availability in the catalogue.
    #[serde(default)]
    pub status_url: Option<String>,
}

impl ProviderAbout {
    /// Nothing said: no eligibility, no limit, no description.
    pub fn is_empty(&self) -> bool {
        self.eligibility.is_empty()
            && self.rate_limit_per_minute.is_none()
            && self.api.is_none()
            && self.status_url.is_none()
    }
}

/// An OpenAPI description: the document as given, and what the catalogue shows of it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApiDescription {
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// The `openapi` version of the document (`3.0.3`, `3.1.0`…).
    pub openapi: String,
    /// Its operations, by path, then in the order of the methods of OpenAPI's path item.
    pub operations: Vec<Operation>,
    /// The document, as given (JSON).
    pub document: String,
}

/// One operation of an API.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Operation {
    /// `GET`, `POST`…
    pub method: String,
    /// The path, with its `{parameters}`.
    pub path: String,
    /// Its summary (or its description, when it has no summary).
    pub summary: String,
    /// Its parameters.
    pub parameters: Vec<Parameter>,
    /// Its answers: status and description.
    pub responses: Vec<(String, String)>,
}

/// One parameter of an operation.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Parameter {
    /// Its name.
    pub name: String,
    /// Where it goes: `path`, `query`, `header` or `cookie`.
    pub location: String,
    /// Whether it is required.
    pub required: bool,
    /// What it is.
    pub description: String,
}

/// Why a description was refused: in English and in French.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescriptionError {
    /// In English.
    pub en: String,
    /// In French.
    pub fr: String,
}

fn refuse(en: impl Into<String>, fr: impl Into<String>) -> DescriptionError {
    DescriptionError { en: en.into(), fr: fr.into() }
}

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().trim().to_owned()
}

impl ApiDescription {
    /// The description of `document`, if it is an OpenAPI 3 document in JSON.
    pub fn parse(document: &str) -> Result<Self, DescriptionError> {
        if document.len() > MAX_DESCRIPTION_BYTES {
            return Err(refuse(
                format!("is larger than {} kB", MAX_DESCRIPTION_BYTES / 1024),
                format!("dépasse {} ko", MAX_DESCRIPTION_BYTES / 1024),
            ));
        }
        let value: Value = serde_json::from_str(document)
            .map_err(|e| refuse(format!("is not JSON: {e}"), format!("n'est pas du JSON : {e}")))?;
        let openapi = text(&value["openapi"]);
        if !openapi.starts_with("3.") {
            return Err(refuse(
                "must be an OpenAPI 3 document (`openapi`: \"3.0.3\", \"3.1.0\"…)",
                "doit être un document OpenAPI 3 (`openapi` : \"3.0.3\", \"3.1.0\"…)",
            ));
        }
        let title = text(&value["info"]["title"]);
        if title.is_empty() {
            return Err(refuse("needs `info.title`", "doit avoir un `info.title`"));
        }
        let paths = value["paths"]
            .as_object()
            .ok_or_else(|| refuse("needs `paths` (an object)", "doit avoir des `paths` (un objet)"))?;
        let mut operations = Vec::new();
        for (path, item) in paths {
            let shared = parameters(&item["parameters"]);
            for method in METHODS {
                let Some(operation) = item.get(method).filter(|o| o.is_object()) else { continue };
                if operations.len() == MAX_OPERATIONS {
                    return Err(refuse(
                        format!("has more than {MAX_OPERATIONS} operations"),
                        format!("a plus de {MAX_OPERATIONS} opérations"),
                    ));
                }
                let summary = Some(text(&operation["summary"]))
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| text(&operation["description"]));
                let mut all = shared.clone();
                for own in parameters(&operation["parameters"]) {
                    all.retain(|p: &Parameter| !(p.name == own.name && p.location == own.location));
                    all.push(own);
                }
                let responses = operation["responses"]
                    .as_object()
                    .map(|answers| {
                        answers.iter().map(|(status, answer)| (status.clone(), text(&answer["description"]))).collect()
                    })
                    .unwrap_or_default();
                operations.push(Operation {
                    method: method.to_ascii_uppercase(),
                    path: path.clone(),
                    summary,
                    parameters: all,
                    responses,
                });
            }
        }
        Ok(Self { title, version: text(&value["info"]["version"]), openapi, operations, document: document.to_owned() })
    }
}

/// The parameters of a `parameters` list (a `$ref` one is named by its reference).
fn parameters(list: &Value) -> Vec<Parameter> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| match item["$ref"].as_str() {
                    Some(reference) => Parameter {
                        name: reference.rsplit('/').next().unwrap_or(reference).to_owned(),
                        location: String::new(),
                        required: false,
                        description: String::new(),
                    },
                    None => Parameter {
                        name: text(&item["name"]),
                        location: text(&item["in"]),
                        required: item["required"].as_bool().unwrap_or(false),
                        description: text(&item["description"]),
                    },
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAF: &str = r#"{
      "openapi": "3.1.0",
      "info": { "title": "API CAF (démo)", "version": "1.0" },
      "paths": {
        "/api/donnees": {
          "parameters": [{ "name": "Authorization", "in": "header", "required": true, "description": "Bearer" }],
          "get": {
            "summary": "Les données de la personne",
            "parameters": [{ "name": "annee", "in": "query", "description": "L'année" }],
            "responses": { "200": { "description": "Les données" }, "401": { "description": "Jeton refusé" } }
          }
        },
        "/health": { "get": { "description": "Vivant ?" , "responses": {} } }
      }
    }"#;

    #[test]
    fn an_openapi_3_document_gives_its_operations_by_path() {
        let api = ApiDescription::parse(CAF).unwrap();
        assert_eq!(
            (api.title.as_str(), api.version.as_str(), api.openapi.as_str()),
            ("API CAF (démo)", "1.0", "3.1.0")
        );
        assert_eq!(api.operations.len(), 2);
        let data = &api.operations[0];
        assert_eq!((data.method.as_str(), data.path.as_str()), ("GET", "/api/donnees"));
        assert_eq!(data.summary, "Les données de la personne");
        let names: Vec<&str> = data.parameters.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Authorization", "annee"]);
        assert!(data.parameters[0].required && !data.parameters[1].required);
        assert_eq!(
            data.responses,
            [("200".to_owned(), "Les données".to_owned()), ("401".to_owned(), "Jeton refusé".to_owned())]
        );
        assert_eq!(api.operations[1].summary, "Vivant ?", "the description when no summary");
        assert_eq!(api.document, CAF);
    }

    #[test]
    fn anything_else_is_refused_in_both_languages() {
        for (document, fr) in [
            ("not json", "n'est pas du JSON"),
            (r#"{"swagger": "2.0", "info": {"title": "t"}, "paths": {}}"#, "OpenAPI 3"),
            (r#"{"openapi": "3.0.3", "info": {}, "paths": {}}"#, "info.title"),
            (r#"{"openapi": "3.0.3", "info": {"title": "t"}, "paths": []}"#, "paths"),
        ] {
            let error = ApiDescription::parse(document).unwrap_err();
            assert!(error.fr.contains(fr) && !error.en.is_empty(), "{document}: {error:?}");
        }
        let huge = format!(r#"{{"openapi": "3.0.3", "x": "{}"}}"#, "a".repeat(MAX_DESCRIPTION_BYTES));
        assert!(ApiDescription::parse(&huge).unwrap_err().en.contains("larger"));
        let many: Vec<String> = (0..=MAX_OPERATIONS).map(|i| format!(r#""/p{i}": {{"get": {{}}}}"#)).collect();
        let many = format!(r#"{{"openapi": "3.0.3", "info": {{"title": "t"}}, "paths": {{{}}}}}"#, many.join(","));
        assert!(ApiDescription::parse(&many).unwrap_err().fr.contains("opérations"));
    }
}
