//! The admin API's errors: JSON with an OAuth-style `error` code, a description that says what
//! to fix, and the field concerned. Nothing is changed when one is returned. The description is
//! in English, or in French when `Accept-Language` prefers it ([`in_language`]); the answer's
//! `Content-Language` says which.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use relais_domain::registration::RegistrationError;
use relais_store::StoreError;

use crate::error::no_store;
use crate::i18n::Lang;

/// A message for the operator, in English and in French.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Said {
    /// In English.
    pub en: String,
    /// In French.
    pub fr: String,
}

impl Said {
    /// The message `en`, `fr` in French.
    pub fn new(en: impl Into<String>, fr: impl Into<String>) -> Self {
        Self { en: en.into(), fr: fr.into() }
    }
}

impl std::fmt::Display for Said {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en)
    }
}

/// Why an admin request was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No operator's token (401).
    #[error("{0}")]
    Unauthorized(Said),
    /// The request or one of its fields is wrong (400).
    #[error("{field}: {message}")]
    Invalid {
        /// The field (`redirect_uris`, `body`, …).
        field: String,
        /// What is wrong.
        message: Said,
    },
    /// No such actor (404).
    #[error("{0}")]
    NotFound(Said),
    /// The change conflicts with the registry (409): an actor of the configuration file, an
    /// actor others depend on.
    #[error("{0}")]
    Conflict(Said),
    /// The registry or the traces cannot be reached (503).
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

impl AdminError {
    /// A field refused: what is wrong, in English and in French.
    pub fn invalid(field: impl Into<String>, en: impl Into<String>, fr: impl Into<String>) -> Self {
        Self::Invalid { field: field.into(), message: Said::new(en, fr) }
    }

    /// Nothing there (404).
    pub fn not_found(en: impl Into<String>, fr: impl Into<String>) -> Self {
        Self::NotFound(Said::new(en, fr))
    }

    /// A conflict with the registry (409).
    pub fn conflict(en: impl Into<String>, fr: impl Into<String>) -> Self {
        Self::Conflict(Said::new(en, fr))
    }
}

impl From<RegistrationError> for AdminError {
    fn from(error: RegistrationError) -> Self {
        Self::invalid(error.field, error.message, error.message_fr)
    }
}

/// The body of every error of the admin API.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// `invalid_request`, `invalid_token`, `not_found`, `conflict` or
    /// `temporarily_unavailable`.
    #[schema(example = "invalid_request")]
    pub error: String,
    /// What is wrong and what to do: in French when the request's `Accept-Language` prefers
    /// French, in English otherwise (`Content-Language` says which).
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
        let said = match self {
            Self::Unauthorized(said)
            | Self::Invalid { message: said, .. }
            | Self::NotFound(said)
            | Self::Conflict(said) => said,
            Self::Store(store) => {
                tracing::error!(target: "relais::admin", error = %store, "admin request failed on storage");
                Said::new(
                    "the registry cannot be reached now: retry",
                    "le registre est injoignable pour le moment : réessayez",
                )
            }
        };
        let french = ErrorBody { error: error.to_owned(), error_description: said.fr, field: field.clone() };
        let body = ErrorBody { error: error.to_owned(), error_description: said.en, field };
        let mut response = (status, no_store(), Json(body)).into_response();
        if let Ok(french) = serde_json::to_vec(&french) {
            response.extensions_mut().insert(InFrench(french));
        }
        if status == StatusCode::UNAUTHORIZED {
            let challenge = HeaderValue::from_static("Bearer realm=\"relais-admin\", error=\"invalid_token\"");
            response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

/// An error's body in French, for [`in_language`].
#[derive(Clone)]
struct InFrench(Vec<u8>);

/// Answers an error in French when the request's `Accept-Language` prefers it (in English
/// otherwise), and says which in `Content-Language`.
pub async fn in_language(request: Request, next: Next) -> Response {
    let asked = request.headers().get(header::ACCEPT_LANGUAGE).and_then(|value| value.to_str().ok());
    let french = asked.and_then(Lang::from_accept_language) == Some(Lang::Fr);
    let mut response = next.run(request).await;
    if let Some(InFrench(body)) = response.extensions_mut().remove::<InFrench>() {
        if french {
            response.headers_mut().remove(header::CONTENT_LENGTH);
            *response.body_mut() = Body::from(body);
        }
        let language = HeaderValue::from_static(if french { "fr" } else { "en" });
        response.headers_mut().insert(header::CONTENT_LANGUAGE, language);
    }
    response
}
