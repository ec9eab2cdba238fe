//! The checktoken answer (RFC 7662 shape, FranceConnect's checktoken): what a data provider
//! learns about an access token, typed, so that no field can be added by accident. As JSON,
//! or as the `token_introspection` claim of a signed JWT (RFC 9701).

use std::collections::BTreeMap;

use relais_domain::flow::AccessGrant;
use relais_domain::{DpId, PairwiseSub, PivotIdentity, Scope};

/// An introspection answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IntrospectionResponse {
    /// Whether the token is active for this data provider.
    pub active: bool,
    /// The other members, only when active.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub token: Option<ActiveToken>,
}

/// What an active answer carries.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ActiveToken {
    /// The service provider holding the token.
    pub client_id: String,
    /// The consented data scopes of this data provider, space-separated.
    pub scope: String,
    /// The person's `sub`, pairwise for this data provider.
    pub sub: String,
    /// When the token was issued.
    pub iat: u64,
    /// When it expires.
    pub exp: u64,
    /// The pivot identity, for the provider to find the person's record.
    pub identity: BTreeMap<String, String>,
}

impl IntrospectionResponse {
    /// `{"active": false}`.
    pub fn inactive() -> Self {
        Self { active: false, token: None }
    }

    /// The active answer for `access`, covering `scopes`, about `pivot`, known as `sub`.
    pub fn active(access: &AccessGrant, scopes: &[String], sub: &PairwiseSub, pivot: &PivotIdentity) -> Self {
        let identity = Scope::IdentitePivot
            .claims()
            .into_iter()
            .filter_map(|claim| claim.value_of(pivot).map(|value| (claim.name().to_owned(), value)))
            .collect();
        Self {
            active: true,
            token: Some(ActiveToken {
                client_id: access.sp.to_string(),
                scope: scopes.join(" "),
                sub: sub.as_str().to_owned(),
                iat: access.issued_at.0,
                exp: access.expires_at.0,
                identity,
            }),
        }
    }
}

/// The claims of a signed checktoken answer (RFC 9701, section 5).
#[derive(Debug, serde::Serialize)]
pub struct IntrospectionJwtClaims<'a> {
    /// The hub.
    pub iss: &'a str,
    /// The data provider.
    pub aud: &'a str,
    /// When the answer was made.
    pub iat: u64,
    /// The answer.
    pub token_introspection: &'a IntrospectionResponse,
}

impl<'a> IntrospectionJwtClaims<'a> {
    /// The claims of `answer` signed by `issuer` for `dp` at `iat`.
    pub fn new(issuer: &'a str, dp: &'a DpId, iat: u64, answer: &'a IntrospectionResponse) -> Self {
        Self { iss: issuer, aud: dp.as_str(), iat, token_introspection: answer }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inactive_answer_is_only_active_false() {
        assert_eq!(
            serde_json::to_value(IntrospectionResponse::inactive()).ok(),
            Some(serde_json::json!({"active": false}))
        );
    }
}
