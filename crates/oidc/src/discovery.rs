//! The hub's discovery document (OpenID Connect Discovery 1.0, section 3).

use relais_domain::{Claim, EidasLevel, Scope};
use serde_json::{json, Value};
use url::Url;

/// The endpoints of the hub, derived from its issuer.
#[derive(Clone, Debug)]
pub struct Endpoints {
    /// The issuer (no trailing slash).
    pub issuer: String,
    /// Authorization endpoint.
    pub authorization: String,
    /// Token endpoint.
    pub token: String,
    /// Userinfo endpoint.
    pub userinfo: String,
    /// JWKS.
    pub jwks: String,
    /// End session (RP-initiated logout).
    pub end_session: String,
    /// Where IdPs send the person back after logout.
    pub idp_logout_callback: String,
}

impl Endpoints {
    /// The endpoints under `issuer`.
    pub fn new(issuer: &Url) -> Self {
        let base = issuer.as_str().trim_end_matches('/').to_owned();
        let at = |path: &str| format!("{base}{path}");
        Self {
            authorization: at("/authorize"),
            token: at("/token"),
            userinfo: at("/userinfo"),
            jwks: at("/jwks"),
            end_session: at("/logout"),
            idp_logout_callback: at("/idp/logout-callback"),
            issuer: base,
        }
    }
}

/// The discovery document.
pub fn discovery_document(endpoints: &Endpoints, signing_algorithms: &[&str]) -> Value {
    let mut claims: Vec<&str> = vec!["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr"];
    claims.extend(Claim::ALL.iter().map(|c| c.name()));
    json!({
        "issuer": endpoints.issuer,
        "authorization_endpoint": endpoints.authorization,
        "token_endpoint": endpoints.token,
        "userinfo_endpoint": endpoints.userinfo,
        "jwks_uri": endpoints.jwks,
        "end_session_endpoint": endpoints.end_session,
        "scopes_supported": Scope::all().iter().map(|s| s.name()).collect::<Vec<_>>(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": signing_algorithms,
        "userinfo_signing_alg_values_supported": [],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS384", "RS512", "PS256", "PS384", "ES256", "ES384"],
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": EidasLevel::ALL.iter().map(|l| l.as_acr()).collect::<Vec<_>>(),
        "claims_supported": claims,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "ui_locales_supported": ["fr", "en"],
    })
}
