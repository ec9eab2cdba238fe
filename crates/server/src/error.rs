//! The one place where errors become HTTP responses: a page for the person (French or English) (rendered
//! with the request id by the request context), an OAuth JSON error for the clients' direct
//! calls, an OAuth redirect when the client and its redirect URI are trusted. Internals go to
//! the log, never to the response.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use relais_oidc::{ErrorCode, OAuthError};
use relais_store::StoreError;
use serde_json::json;

/// What went wrong, for the person: each has its own page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorPage {
    /// The service (client) is unknown or its request is incomplete.
    UnknownService,
    /// The return address is not registered for the service.
    UnregisteredRedirect,
    /// The sign-in took too long, or was started in another browser.
    SessionExpired,
    /// The identity provider could not be reached.
    IdpUnavailable,
    /// The identity provider's answer could not be trusted.
    IdentityRejected,
    /// The identity provider's answer lacked a mandatory piece of identity.
    IdentityIncomplete,
    /// The request is malformed.
    BadRequest,
    /// A storage backend is down: the hub fails closed.
    TemporarilyUnavailable,
    /// The person blocked this identity provider for their account.
    IdpBlocked,
    /// No page at this address.
    NotFound,
}

impl ErrorPage {
    /// The template key of the page.
    pub fn key(self) -> &'static str {
        match self {
            Self::UnknownService => "unknown_service",
            Self::UnregisteredRedirect => "unregistered_redirect",
            Self::SessionExpired => "session_expired",
            Self::IdpUnavailable => "idp_unavailable",
            Self::IdentityRejected => "identity_rejected",
            Self::IdentityIncomplete => "identity_incomplete",
            Self::BadRequest => "bad_request",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::IdpBlocked => "idp_blocked",
            Self::NotFound => "not_found",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Self::UnknownService | Self::UnregisteredRedirect | Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::SessionExpired => StatusCode::BAD_REQUEST,
            Self::IdpBlocked => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::IdpUnavailable | Self::IdentityRejected | Self::IdentityIncomplete => StatusCode::BAD_GATEWAY,
            Self::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// An error of a handler.
#[derive(Debug)]
pub enum AppError {
    /// A page for the person.
    Page(ErrorPage),
    /// An error answered to a client's direct call (token endpoint), as JSON.
    Direct {
        /// The error.
        error: OAuthError,
        /// Whether the client used HTTP Basic (then 401 carries `WWW-Authenticate`).
        basic: bool,
    },
    /// A bearer token refused at userinfo (RFC 6750).
    Bearer(OAuthError),
    /// No bearer token at all: a challenge without an error code (RFC 6750, section 3.1).
    BearerMissing,
    /// A storage failure: fail closed.
    Store(StoreError),
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

impl AppError {
    /// A direct OAuth error.
    pub fn direct(code: ErrorCode, description: impl Into<String>) -> Self {
        Self::Direct { error: OAuthError::new(code, description), basic: false }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::Page(page) => {
                tracing::warn!(error = page.key(), "request refused");
                let mut response = page.status().into_response();
                response.extensions_mut().insert(page);
                response
            }
            AppError::Direct { error, basic } => {
                tracing::warn!(error = error.code.as_str(), description = %error.description, "client request refused");
                let status = match error.code {
                    ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
                    ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
                    _ => StatusCode::BAD_REQUEST,
                };
                let mut response = (
                    status,
                    no_store(),
                    Json(json!({"error": error.code.as_str(), "error_description": error.description})),
                )
                    .into_response();
                if basic && status == StatusCode::UNAUTHORIZED {
                    response
                        .headers_mut()
                        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"relais\""));
                }
                response
            }
            AppError::Bearer(error) => {
                tracing::warn!(error = error.code.as_str(), "bearer token refused");
                let challenge =
                    format!("Bearer error=\"{}\", error_description=\"{}\"", error.code.as_str(), error.description);
                let mut response = (
                    StatusCode::UNAUTHORIZED,
                    Json(json!({"error": error.code.as_str(), "error_description": error.description})),
                )
                    .into_response();
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
                }
                response
            }
            AppError::BearerMissing => {
                let mut response = StatusCode::UNAUTHORIZED.into_response();
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"relais\""));
                response
            }
            AppError::Store(error) => {
                tracing::error!(%error, "storage unavailable: failing closed");
                let mut response = StatusCode::SERVICE_UNAVAILABLE.into_response();
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
                response.extensions_mut().insert(ErrorPage::TemporarilyUnavailable);
                response
            }
        }
    }
}

/// `Cache-Control: no-store` and `Pragma: no-cache`, for every response carrying tokens.
pub fn no_store() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

/// A 303 redirect (after a POST, the browser must GET the target).
pub fn see_other(url: &str) -> Response {
    Redirect::to(url).into_response()
}
