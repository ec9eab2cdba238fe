//! The hub's discovery document (OpenID Connect Discovery 1.0, section 3).

use relais_domain::agent::reference::{PERSON_REFERENCE, TOKEN_EXCHANGE_GRANT_TYPE};
use relais_domain::agent::AgentClaim;
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
    /// The path of the issuer (`""` for the hub's, `/agents` for the agent federation's): the
    /// pages' own links start with it.
    pub base_path: String,
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
            base_path: issuer.path().trim_end_matches('/').to_owned(),
            issuer: base,
        }
    }
}

/// The claims of every ID token, whatever the profile.
const TOKEN_CLAIMS: [&str; 8] = ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr"];

/// The discovery document of the citizen federation.
pub fn discovery_document(endpoints: &Endpoints, signing_algorithms: &[&str]) -> Value {
    let mut claims: Vec<&str> = TOKEN_CLAIMS.to_vec();
    claims.extend(Claim::ALL.iter().map(|c| c.name()));
    claims.push(PERSON_REFERENCE);
    let scopes: Vec<&str> = Scope::all().iter().map(|s| s.name()).collect();
    document(endpoints, signing_algorithms, &scopes, &claims, "pairwise", &["authorization_code"])
}

/// The discovery document of the agent federation (its issuer is `{hub issuer}/agents`):
/// ProConnect's claims, one scope per claim, and a `sub` that is the same at every agent
/// service (`public`: agents' accountability needs one identifier across their tools), and
/// the token exchange that turns a person reference into a token about that person (RFC 8693).
pub fn agent_discovery_document(endpoints: &Endpoints, signing_algorithms: &[&str]) -> Value {
    let mut claims: Vec<&str> = TOKEN_CLAIMS.to_vec();
    claims.extend(AgentClaim::ALL.iter().map(|c| c.name()));
    let mut scopes = vec!["openid"];
    scopes.extend(AgentClaim::ALL.iter().map(|c| c.name()));
    document(
        endpoints,
        signing_algorithms,
        &scopes,
        &claims,
        "public",
        &["authorization_code", TOKEN_EXCHANGE_GRANT_TYPE],
    )
}

fn document(
    endpoints: &Endpoints,
    signing_algorithms: &[&str],
    scopes: &[&str],
    claims: &[&str],
    subject_type: &str,
    grant_types: &[&str],
) -> Value {
    json!({
        "issuer": endpoints.issuer,
        "authorization_endpoint": endpoints.authorization,
        "token_endpoint": endpoints.token,
        "userinfo_endpoint": endpoints.userinfo,
        "jwks_uri": endpoints.jwks,
        "end_session_endpoint": endpoints.end_session,
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": grant_types,
        "subject_types_supported": [subject_type],
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_agent_federation_has_its_own_issuer_claims_and_public_subjects() {
        let citizens = Endpoints::new(&Url::parse("https://relais.example/").unwrap());
        let agents = Endpoints::new(&Url::parse("https://relais.example/agents").unwrap());
        assert_eq!(agents.issuer, "https://relais.example/agents");
        assert_eq!(agents.authorization, "https://relais.example/agents/authorize");
        assert_eq!((citizens.base_path.as_str(), agents.base_path.as_str()), ("", "/agents"));
        let citizen = discovery_document(&citizens, &["RS256", "ES256"]);
        let agent = agent_discovery_document(&agents, &["RS256", "ES256"]);
        assert_eq!(agent["issuer"], "https://relais.example/agents");
        assert_eq!(agent["subject_types_supported"], json!(["public"]));
        assert_eq!(citizen["subject_types_supported"], json!(["pairwise"]));
        let has = |document: &Value, member: &str, name: &str| {
            document[member].as_array().unwrap().iter().any(|value| value == name)
        };
        assert!(has(&agent, "scopes_supported", "siret") && has(&agent, "claims_supported", "usual_name"));
        assert!(!has(&agent, "scopes_supported", "identite_pivot") && !has(&agent, "claims_supported", "birthdate"));
        assert!(!has(&citizen, "scopes_supported", "siret") && !has(&citizen, "claims_supported", "idp_id"));
        assert_eq!(agent["code_challenge_methods_supported"], citizen["code_challenge_methods_supported"]);
        assert!(has(&agent, "grant_types_supported", TOKEN_EXCHANGE_GRANT_TYPE));
        assert!(!has(&citizen, "grant_types_supported", TOKEN_EXCHANGE_GRANT_TYPE));
        assert!(
            has(&citizen, "scopes_supported", "person_reference")
                && has(&citizen, "claims_supported", "person_reference")
        );
    }
}
