//! The token exchange request (RFC 8693 section 2.1) of the agent federation: an agent's
//! service presents a person reference as the subject token and the agent's access token as
//! the actor token, and gets an access token about that person for the data scopes asked.
//! Pure: the engine opens the reference, checks the habilitations and stores the token.

use relais_domain::agent::reference::{ACCESS_TOKEN_TYPE, PERSON_REFERENCE_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT_TYPE};

use crate::error::{ErrorCode, OAuthError};
use crate::token::RawTokenRequest;

/// A token exchange request, parsed.
#[derive(Debug, Clone, Copy)]
pub struct TokenExchangeRequest<'a> {
    /// The person reference.
    pub subject_token: &'a str,
    /// The agent's access token.
    pub actor_token: &'a str,
    /// The data scopes asked (none: every one of the actor token).
    pub scope: Option<&'a str>,
}

/// Whether `raw` is a token exchange.
pub fn is_token_exchange(raw: &RawTokenRequest) -> bool {
    raw.grant_type.as_deref() == Some(TOKEN_EXCHANGE_GRANT_TYPE)
}

impl<'a> TokenExchangeRequest<'a> {
    /// Parses `raw`, a token exchange: both tokens with their types (the subject a person
    /// reference, the actor an access token), and, if asked, an access token in return.
    pub fn parse(raw: &'a RawTokenRequest) -> Result<Self, OAuthError> {
        let invalid = |description: &str| OAuthError::new(ErrorCode::InvalidRequest, description);
        let present = |value: &'a Option<String>| value.as_deref().filter(|v| !v.is_empty());
        let subject_token = present(&raw.subject_token).ok_or_else(|| invalid("subject_token is required"))?;
        if present(&raw.subject_token_type) != Some(PERSON_REFERENCE_TOKEN_TYPE) {
            return Err(invalid(&format!("subject_token_type must be {PERSON_REFERENCE_TOKEN_TYPE}")));
        }
        let actor_token = present(&raw.actor_token)
            .ok_or_else(|| invalid("actor_token is required: the access token of the agent making the request"))?;
        if present(&raw.actor_token_type) != Some(ACCESS_TOKEN_TYPE) {
            return Err(invalid(&format!("actor_token_type must be {ACCESS_TOKEN_TYPE}")));
        }
        if present(&raw.requested_token_type).is_some_and(|t| t != ACCESS_TOKEN_TYPE) {
            return Err(invalid(&format!("only {ACCESS_TOKEN_TYPE} can be requested")));
        }
        let scope = raw.scope.as_deref().filter(|s| !s.trim().is_empty());
        Ok(Self { subject_token, actor_token, scope })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn request() -> RawTokenRequest {
        RawTokenRequest {
            grant_type: Some(TOKEN_EXCHANGE_GRANT_TYPE.into()),
            subject_token: Some("sealed:v1:abc".into()),
            subject_token_type: Some(PERSON_REFERENCE_TOKEN_TYPE.into()),
            actor_token: Some("agent-token".into()),
            actor_token_type: Some(ACCESS_TOKEN_TYPE.into()),
            scope: Some("quotient_familial".into()),
            ..Default::default()
        }
    }

    #[test]
    fn an_exchange_names_both_tokens_with_their_types() {
        let raw = request();
        assert!(is_token_exchange(&raw));
        let parsed = TokenExchangeRequest::parse(&raw).unwrap();
        assert_eq!(
            (parsed.subject_token, parsed.actor_token, parsed.scope),
            ("sealed:v1:abc", "agent-token", Some("quotient_familial"))
        );
        let refused = |raw: RawTokenRequest| TokenExchangeRequest::parse(&raw).unwrap_err();
        for broken in [
            RawTokenRequest { subject_token: None, ..request() },
            RawTokenRequest { subject_token_type: Some(ACCESS_TOKEN_TYPE.into()), ..request() },
            RawTokenRequest { actor_token: Some(String::new()), ..request() },
            RawTokenRequest { actor_token_type: None, ..request() },
            RawTokenRequest {
                requested_token_type: Some("urn:ietf:params:oauth:token-type:id_token".into()),
                ..request()
            },
        ] {
            assert_eq!(refused(broken).code, ErrorCode::InvalidRequest);
        }
        let blank = RawTokenRequest { scope: Some(" ".into()), ..request() };
        let all = TokenExchangeRequest::parse(&blank).unwrap();
        assert_eq!(all.scope, None, "no scope: every data scope of the actor token");
        assert!(!is_token_exchange(&RawTokenRequest::default()));
    }
}
