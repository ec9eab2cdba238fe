//! The admin API's errors: JSON with an OAuth-style `error` code, a description that says what
//! to fix, and the field concerned. Nothing is changed when one is returned.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use relais_domain::registration::RegistrationError;
use relais_store::StoreError;

use crate::error::no_store;

/// Why an admin request was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No operator's token (401).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// The request or one of its fields is wrong (400).
    #[error("{field}: {message}")]
    Invalid {
        /// The field (`redirect_uris`, `body`, …).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// No such actor (404).
    #[error("{0}")]
    NotFound(String),
    /// The change conflicts with the registry (409): an actor of the configuration file, an
    /// actor others depend on.
    #[error("{0}")]
    Conflict(String),
    /// The registry or the traces cannot be reached (503).
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

impl AdminError {
    /// A field refused.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid { field: field.into(), message: message.into() }
    }
}

impl From<RegistrationError> for AdminError {
    fn from(error: RegistrationError) -> Self {
        Self::invalid(error.field, error.message)
    }
}

/// The body of every error of the admin API.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// `invalid_request`, `invalid_token`, `not_found`, `conflict` or
    /// `temporarily_unavailable`.
    #[schema(example = "invalid_request")]
    pub error: String,
    /// What is wrong and what to do.
    #[schema(example = "`http://mairie.example/cb` must be https (http is accepted on localhost only)")]
    pub error_description: String,
    /// The field concerned, for `invalid_request`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "redirect_uris")]
    pub field: Option<String>,
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let (status, error, field) = match &self {
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "invalid_token", None),
            Self::Invalid { field, .. } => (StatusCode::BAD_REQUEST, "invalid_request", Some(field.clone())),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", None),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict", None),
            Self::Store(_) => (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", None),
        };
        let error_description = match &self {
            Self::Invalid { message, .. } => message.clone(),
            Self::Store(store) => {
                tracing::error!(target: "relais::admin", error = %store, "admin request failed on storage");
                "the registry cannot be reached now: retry".to_owned()
            }
            other => other.to_string(),
        };
        let body = ErrorBody { error: error.to_owned(), error_description, field };
        let mut response = (status, no_store(), Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            let challenge = HeaderValue::from_static("Bearer realm=\"relais-admin\", error=\"invalid_token\"");
            response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}
