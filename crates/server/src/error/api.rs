//! Errors of the endpoints machines call (token, userinfo, checktoken, and the admin API to
//! come): always JSON, in the shape RFC 6749 section 5.2 and RFC 6750 section 3 give.

use axum::response::{IntoResponse, Response};
use relais_oidc::{ErrorCode, OAuthError};
use relais_store::StoreError;

use super::oauth;

/// An error answered to a client's or a data provider's direct call.
#[derive(Debug)]
pub enum ApiError {
    /// An OAuth error (RFC 6749, section 5.2).
    OAuth {
        /// The error.
        error: OAuthError,
        /// Whether the caller used HTTP Basic (then a 401 carries `WWW-Authenticate: Basic`).
        basic: bool,
    },
    /// A bearer token refused (RFC 6750, section 3.1).
    Bearer(OAuthError),
    /// No bearer token at all: a challenge without an error code (RFC 6750, section 3.1).
    BearerMissing,
    /// A storage failure: fail closed, `temporarily_unavailable` (503).
    Unavailable(StoreError),
}

impl ApiError {
    /// An OAuth error for a caller that did not use HTTP Basic.
    pub fn oauth(code: ErrorCode, description: impl Into<String>) -> Self {
        Self::OAuth { error: OAuthError::new(code, description), basic: false }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        Self::Unavailable(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::OAuth { error, basic } => {
                tracing::warn!(error = error.code.as_str(), description = %error.description, "client request refused");
                oauth::json_error(&error, basic)
            }
            ApiError::Bearer(error) => {
                tracing::warn!(error = error.code.as_str(), "bearer token refused");
                oauth::bearer_error(Some(&error))
            }
            ApiError::BearerMissing => oauth::bearer_error(None),
            ApiError::Unavailable(error) => {
                tracing::error!(%error, "storage unavailable: failing closed");
                let answer =
                    OAuthError::new(ErrorCode::TemporarilyUnavailable, "the service is temporarily unavailable");
                oauth::json_error(&answer, false)
            }
        }
    }
}
