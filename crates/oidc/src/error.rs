//! OAuth 2.0 / OpenID Connect error codes (RFC 6749 section 4.1.2.1 and 5.2, OpenID Connect
//! Core 3.1.2.6, RFC 6750 section 3.1), in one place.

use std::fmt;

/// An error code a client sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// `invalid_request`
    InvalidRequest,
    /// `invalid_client`
    InvalidClient,
    /// `invalid_grant`
    InvalidGrant,
    /// `unauthorized_client`
    UnauthorizedClient,
    /// `unsupported_grant_type`
    UnsupportedGrantType,
    /// `unsupported_response_type`
    UnsupportedResponseType,
    /// `invalid_scope`
    InvalidScope,
    /// `access_denied`
    AccessDenied,
    /// `login_required`
    LoginRequired,
    /// `consent_required` (Core 3.1.2.6: consent is needed and `prompt=none` forbids a page)
    ConsentRequired,
    /// `request_not_supported`
    RequestNotSupported,
    /// `request_uri_not_supported`
    RequestUriNotSupported,
    /// `invalid_token` (RFC 6750)
    InvalidToken,
    /// `server_error`
    ServerError,
    /// `temporarily_unavailable`
    TemporarilyUnavailable,
}

impl ErrorCode {
    /// The code as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidToken => "invalid_token",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An OAuth error with a human-readable description for the developer of the client (never
/// personal data, never internals).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    /// The code.
    pub code: ErrorCode,
    /// The `error_description`.
    pub description: String,
}

impl OAuthError {
    /// An error with this code and description.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self { code, description: description.into() }
    }
}
