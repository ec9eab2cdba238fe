//! Why a sign-in at an IdP failed, in what the operator needs: the kind, the step, the IdP's
//! status and its error; and how `openidconnect`'s errors map to it.

use openidconnect::core::CoreErrorResponseType;
use openidconnect::StandardErrorResponse;

/// The step of a sign-in at an IdP where it failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpstreamStep {
    /// Reading its discovery document (and keys).
    Discovery,
    /// The code exchange at its token endpoint.
    Token,
    /// Verifying its ID token.
    IdToken,
    /// Its userinfo endpoint.
    Userinfo,
}

impl UpstreamStep {
    /// A fixed name, for logs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Discovery => "discovery",
            Self::Token => "token",
            Self::IdToken => "id_token",
            Self::Userinfo => "userinfo",
        }
    }
}

/// The kind of a failed sign-in at an IdP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpstreamFailure {
    /// The IdP could not be reached, timed out, or answered with an error page (not the
    /// person's doing: the choice page offers the other accounts).
    Unavailable,
    /// The IdP refused the code exchange (a wrong hub secret there, say).
    TokenRefused,
    /// The ID token is missing or failed verification.
    IdTokenRejected,
    /// Userinfo failed, or names another subject than the ID token.
    UserinfoRejected,
    /// The IdP asserted a level below what the request needs, or none.
    LevelNotReached,
}

/// Why a sign-in at an IdP did not give an identity: what failed, at which step, the IdP's
/// HTTP status when it gave one, and the error as it can be logged (never a token or a claim).
#[derive(Debug, thiserror::Error)]
#[error("{} at the {} step{}: {detail}", self.kind(), step.name(), status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
pub struct UpstreamError {
    /// What failed.
    pub failure: UpstreamFailure,
    /// Where.
    pub step: UpstreamStep,
    /// The IdP's HTTP status, when it answered one.
    pub status: Option<u16>,
    /// The error, for the operator.
    pub detail: String,
}

impl UpstreamError {
    /// A failure of `failure` at `step`.
    pub fn new(failure: UpstreamFailure, step: UpstreamStep, detail: impl Into<String>) -> Self {
        Self { failure, step, status: None, detail: detail.into() }
    }

    /// The IdP unreachable at `step`.
    pub fn unavailable(step: UpstreamStep, detail: impl Into<String>) -> Self {
        Self::new(UpstreamFailure::Unavailable, step, detail)
    }

    /// With the IdP's HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Whether the IdP could not be reached (rather than refusing).
    pub fn is_unavailable(&self) -> bool {
        self.failure == UpstreamFailure::Unavailable
    }

    /// A fixed name for the kind of failure, for traces and metrics.
    pub fn kind(&self) -> &'static str {
        match self.failure {
            UpstreamFailure::Unavailable => "idp_unavailable",
            UpstreamFailure::TokenRefused => "token_refused",
            UpstreamFailure::IdTokenRejected => "id_token_rejected",
            UpstreamFailure::UserinfoRejected => "userinfo_rejected",
            UpstreamFailure::LevelNotReached => "level_not_reached",
        }
    }
}

/// The token endpoint's failure: the IdP's OAuth error when it answered one, unavailable when
/// it could not be reached (a timeout says so). A response that cannot be read is named, not
/// quoted (it may hold tokens).
pub(super) fn token_failure<RE: std::error::Error + 'static>(
    error: openidconnect::RequestTokenError<RE, StandardErrorResponse<CoreErrorResponseType>>,
) -> UpstreamError {
    use openidconnect::RequestTokenError as E;
    let refused = |detail: String| UpstreamError::new(UpstreamFailure::TokenRefused, UpstreamStep::Token, detail);
    match &error {
        E::ServerResponse(answer) => {
            let description = answer.error_description().map(|d| format!(" ({d})")).unwrap_or_default();
            refused(format!("{}{description}", answer.error().as_ref()))
        }
        E::Request(_) => UpstreamError::unavailable(UpstreamStep::Token, error_chain(&error)),
        // Not an OAuth answer: an error page of the IdP or of its gateway (the IdP is down).
        E::Parse(..) => UpstreamError::unavailable(UpstreamStep::Token, "the token response is not an OAuth answer"),
        E::Other(detail) => refused(detail.clone()),
    }
}

/// Userinfo's failure, with the IdP's status when it answered one.
pub(super) fn userinfo_failure<RE: std::error::Error + 'static>(
    error: openidconnect::UserInfoError<RE>,
) -> UpstreamError {
    use openidconnect::UserInfoError as E;
    let rejected =
        |detail: String| UpstreamError::new(UpstreamFailure::UserinfoRejected, UpstreamStep::Userinfo, detail);
    match &error {
        E::Request(_) => UpstreamError::unavailable(UpstreamStep::Userinfo, error_chain(&error)),
        E::Response(status, _, message) => rejected(message.clone()).with_status(status.as_u16()),
        // Only the top-level message: the causes of a parse failure quote claim values.
        other => rejected(other.to_string()),
    }
}

/// Discovery's failure, with the IdP's status when it answered one.
pub(super) fn discovery_failure<RE: std::error::Error + 'static>(
    error: openidconnect::DiscoveryError<RE>,
) -> UpstreamError {
    let failed = UpstreamError::unavailable(UpstreamStep::Discovery, error_chain(&error));
    match &error {
        openidconnect::DiscoveryError::Response(status, _, _) => failed.with_status(status.as_u16()),
        _ => failed,
    }
}

/// An error and its causes, on one line.
pub(super) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
