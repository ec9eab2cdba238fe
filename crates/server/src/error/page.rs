//! Errors of the person's pages: a page of its own for each thing that can go wrong (rendered
//! with the request id by the request context), or the OAuth error returned to the service
//! when the service and its redirect URI are trusted (RFC 6749, section 4.1.2.1).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use relais_store::StoreError;

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
    /// An agent's IdP returned an e-mail of a domain it does not serve.
    AgentDomainRefused,
    /// The service accepts only agents of public organisations.
    AgentNotPublic,
    /// The agent's role on the partner portal's service does not allow this action.
    RoleRequired,
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
            Self::AgentDomainRefused => "agent_domain_refused",
            Self::AgentNotPublic => "agent_not_public",
            Self::RoleRequired => "role_required",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Self::UnknownService | Self::UnregisteredRedirect | Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::SessionExpired => StatusCode::BAD_REQUEST,
            Self::IdpBlocked | Self::AgentNotPublic | Self::RoleRequired => StatusCode::FORBIDDEN,
            Self::AgentDomainRefused => StatusCode::BAD_GATEWAY,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::IdpUnavailable | Self::IdentityRejected | Self::IdentityIncomplete => StatusCode::BAD_GATEWAY,
            Self::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// An error of a step the person's browser drives.
#[derive(Debug)]
pub enum PageError {
    /// A page for the person.
    Page(ErrorPage),
    /// The OAuth error sent back to the service: the URL of its redirect URI with `error`,
    /// `error_description`, `state` and `iss` (built by [`super::oauth::error_redirect`]).
    ToService(String),
    /// A storage failure: fail closed.
    Store(StoreError),
    /// A page that also offers the way back to the service: its redirect URI with the OAuth
    /// error (the service is known and the address registered).
    PageWithReturn(ErrorPage, String),
}

/// The way back to the service an error page offers (a response extension, as [`ErrorPage`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReturnToService(pub String);

impl From<ErrorPage> for PageError {
    fn from(page: ErrorPage) -> Self {
        Self::Page(page)
    }
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Page(page) => {
                tracing::warn!(error = page.key(), "request refused");
                let mut response = page.status().into_response();
                response.extensions_mut().insert(page);
                response
            }
            PageError::ToService(url) => {
                let mut response = super::see_other(&url);
                for (name, value) in super::no_store() {
                    response.headers_mut().insert(name, value);
                }
                response
            }
            PageError::PageWithReturn(page, url) => {
                tracing::warn!(error = page.key(), "request refused, with a way back to the service");
                let mut response = page.status().into_response();
                response.extensions_mut().insert(page);
                response.extensions_mut().insert(ReturnToService(url));
                response
            }
            PageError::Store(error) => {
                tracing::error!(%error, "storage unavailable: failing closed");
                let mut response = StatusCode::SERVICE_UNAVAILABLE.into_response();
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
                response.extensions_mut().insert(ErrorPage::TemporarilyUnavailable);
                response
            }
        }
    }
}
