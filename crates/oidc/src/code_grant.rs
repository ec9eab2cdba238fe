//! The rules of an authorization code token request (RFC 6749 sections 4.1.3 and 10.5,
//! RFC 7636 section 4.6, RFC 7523 section 3): the request parsed into what the hub needs, the
//! client assertion's lifetime, and whether a stored code may be redeemed by it. Pure: the
//! engine takes the code from the store and records the assertion's `jti`.

use relais_domain::clock::UnixTime;
use relais_domain::flow::CodeGrant;
use relais_domain::SpId;

use crate::error::{ErrorCode, OAuthError};
use crate::jose::ClientAssertionClaims;
use crate::pkce;
use crate::token::RawTokenRequest;

/// Leeway for a client's clock that runs ahead, on an assertion's `nbf`.
pub const ASSERTION_CLOCK_LEEWAY: u64 = 60;

/// A token request of the authorization code grant, parsed.
#[derive(Debug, Clone, Copy)]
pub struct AuthorizationCodeRequest<'a> {
    /// The code.
    pub code: &'a str,
    /// The redirect URI repeated from the authorization request.
    pub redirect_uri: Option<&'a str>,
    /// The PKCE verifier.
    pub code_verifier: Option<&'a str>,
}

impl<'a> AuthorizationCodeRequest<'a> {
    /// Parses `raw`: the only grant is `authorization_code`, and it needs a code.
    pub fn parse(raw: &'a RawTokenRequest) -> Result<Self, OAuthError> {
        if raw.grant_type.as_deref() != Some("authorization_code") {
            return Err(OAuthError::new(ErrorCode::UnsupportedGrantType, "only authorization_code is supported"));
        }
        let code = raw
            .code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| OAuthError::new(ErrorCode::InvalidRequest, "code is required"))?;
        Ok(Self { code, redirect_uri: raw.redirect_uri.as_deref(), code_verifier: raw.code_verifier.as_deref() })
    }

    /// Whether `grant`, just taken from the store, may be redeemed by `sp` with this request:
    /// issued to it, for the same redirect URI, and the PKCE verifier matching its challenge
    /// (a verifier without a challenge, or the reverse, fails).
    pub fn redeems(&self, grant: &CodeGrant, sp: &SpId) -> Result<(), OAuthError> {
        if &grant.sp != sp || self.redirect_uri != Some(grant.redirect_uri.as_str()) {
            return Err(invalid_grant());
        }
        match (&grant.code_challenge, self.code_verifier) {
            (Some(challenge), Some(verifier)) if pkce::verify_s256(verifier, challenge.as_str()) => Ok(()),
            (None, None) => Ok(()),
            _ => Err(OAuthError::new(ErrorCode::InvalidGrant, "PKCE verification failed")),
        }
    }
}

/// The answer to an unknown, expired, used or mismatched code: one description for all, so it
/// tells nothing about which.
pub fn invalid_grant() -> OAuthError {
    OAuthError::new(ErrorCode::InvalidGrant, "the code is invalid, expired or already used")
}

/// Whether a verified client assertion is within its lifetime at `now`; the number of
/// seconds its `jti` must be remembered against replay.
pub fn assertion_lifetime(claims: &ClientAssertionClaims, now: UnixTime) -> Result<u64, OAuthError> {
    if claims.exp <= now.0 || claims.nbf.is_some_and(|nbf| nbf > now.0 + ASSERTION_CLOCK_LEEWAY) {
        return Err(OAuthError::new(ErrorCode::InvalidClient, "client assertion expired"));
    }
    Ok(claims.exp.saturating_sub(now.0).max(1))
}

/// The key under which an assertion's `jti` is remembered: per client, so two clients cannot
/// burn each other's identifiers.
pub fn assertion_replay_key(sp: &SpId, claims: &ClientAssertionClaims) -> String {
    format!("{sp}:{}", claims.jti)
}

#[cfg(test)]
#[path = "code_grant_tests.rs"]
mod tests;
