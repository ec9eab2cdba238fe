//! The hub's ID tokens (OpenID Connect Core 1.0, section 2): the claim set it signs for a
//! service provider, and the check of an `id_token_hint` it receives back (at `/authorize`,
//! Core 3.1.2.1, and at logout, RP-Initiated Logout 1.0, section 2), in one place.

use std::collections::BTreeMap;

use relais_domain::clock::UnixTime;
use relais_domain::flow::IdentityGrant;
use relais_domain::SpId;

use crate::jose::{at_hash, HubKeys, JoseError};

/// The claims of the hub's ID tokens.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct IdTokenClaims {
    /// Issuer.
    pub iss: String,
    /// Pairwise subject.
    pub sub: String,
    /// The SP.
    pub aud: String,
    /// Expiry.
    pub exp: u64,
    /// Issued at.
    pub iat: u64,
    /// Upstream sign-in time.
    pub auth_time: u64,
    /// The SP's nonce.
    pub nonce: String,
    /// The level reached.
    pub acr: String,
    /// Hash of the access token.
    pub at_hash: String,
    /// The released claims.
    #[serde(flatten)]
    pub claims: BTreeMap<String, String>,
}

impl IdTokenClaims {
    /// The claims of the ID token issued to `sp` for `grant`, alongside `access_token`, living
    /// `lifetime` seconds from `now`.
    pub fn new(
        issuer: &str,
        sp: &SpId,
        grant: &IdentityGrant,
        nonce: &str,
        access_token: &str,
        now: UnixTime,
        lifetime: u64,
    ) -> Self {
        Self {
            iss: issuer.to_owned(),
            sub: grant.sub.as_str().to_owned(),
            aud: sp.to_string(),
            exp: now.plus(lifetime).0,
            iat: now.0,
            auth_time: grant.auth_time.0,
            nonce: nonce.to_owned(),
            acr: grant.acr.as_acr().to_owned(),
            at_hash: at_hash(access_token),
            claims: grant.claims.clone(),
        }
    }
}

/// What the hub reads from an `id_token_hint`: whom it was issued to and about whom.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct HintClaims {
    /// The service provider it was issued to.
    pub aud: String,
    /// The person's pairwise `sub` there.
    pub sub: String,
}

/// Verifies an `id_token_hint`: signed by one of the hub's keys, issued by `issuer`; expired
/// hints are accepted, as both specifications allow.
pub fn verify_hint(keys: &HubKeys, issuer: &str, hint: &str) -> Result<HintClaims, JoseError> {
    keys.verify_own::<HintClaims>(hint, issuer)
}

/// The `sub` an `id_token_hint` names for `sp`: `Ok(None)` without a hint, an error when the
/// hint is not an ID token the hub issued to `sp` (the request is then refused).
pub fn expected_sub(keys: &HubKeys, issuer: &str, sp: &SpId, hint: Option<&str>) -> Result<Option<String>, JoseError> {
    let Some(hint) = hint else { return Ok(None) };
    let claims = verify_hint(keys, issuer, hint)?;
    if claims.aud != sp.as_str() {
        return Err(JoseError::InvalidToken("issued to another client".into()));
    }
    Ok(Some(claims.sub))
}
