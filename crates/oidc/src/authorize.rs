//! The service provider's authorization request (OpenID Connect Core 3.1.2.1), parsed into a
//! typed [`AuthorizationRequest`] or refused with the error the spec asks for: an error page
//! when the client or redirect URI cannot be trusted, a redirect otherwise.

use relais_domain::agent::{agent_claims_of_request, AgentScopeError};
use relais_domain::flow::{AuthorizationRequest, Prompt};
use relais_domain::scopes::ScopeRequestError;
use relais_domain::values::{CodeChallenge, Nonce, RedirectUri, State};
use relais_domain::{EidasLevel, IdpId, Profile, Scope, ScopeSet, ServiceProvider, SpId};

use crate::error::{ErrorCode, OAuthError};
use crate::pkce;

impl RawAuthorizationRequest {
    /// The request of `raw` (a query string or a form body), read strictly
    /// ([`crate::params::strict_pairs`]); parameters it does not know are ignored.
    pub fn parse(raw: &[u8]) -> Result<Self, crate::params::ParamError> {
        let pairs = crate::params::strict_pairs(raw)?;
        let object: serde_json::Map<String, serde_json::Value> =
            pairs.into_iter().map(|(name, value)| (name, serde_json::Value::String(value))).collect();
        // Every field is an optional string: an object of strings always deserialises.
        Ok(serde_json::from_value(serde_json::Value::Object(object)).unwrap_or_default())
    }
}

/// The raw query (or form) parameters of an authorization request.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct RawAuthorizationRequest {
    /// `client_id`
    pub client_id: Option<String>,
    /// `redirect_uri`
    pub redirect_uri: Option<String>,
    /// `response_type`
    pub response_type: Option<String>,
    /// `response_mode`
    pub response_mode: Option<String>,
    /// `scope`
    pub scope: Option<String>,
    /// `state`
    pub state: Option<String>,
    /// `nonce`
    pub nonce: Option<String>,
    /// `code_challenge`
    pub code_challenge: Option<String>,
    /// `code_challenge_method`
    pub code_challenge_method: Option<String>,
    /// `acr_values`
    pub acr_values: Option<String>,
    /// `prompt`
    pub prompt: Option<String>,
    /// `idp_hint`
    pub idp_hint: Option<String>,
    /// `request` (request objects are not supported)
    pub request: Option<String>,
    /// `request_uri` (not supported)
    pub request_uri: Option<String>,
    /// `ui_locales`
    pub ui_locales: Option<String>,
    /// `max_age`
    pub max_age: Option<String>,
    /// `id_token_hint`
    pub id_token_hint: Option<String>,
    /// `login_hint`
    pub login_hint: Option<String>,
}

/// Why an authorization request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The request cannot be answered by a redirect (unknown client, unregistered or missing
    /// redirect URI): the person sees an error page (RFC 6749, section 4.1.2.1).
    NotRedirectable(AuthorizeRefusal),
    /// The error is sent back to the SP's redirect URI.
    Redirect {
        /// The registered redirect URI.
        redirect_uri: String,
        /// The SP's `state`, if it sent one.
        state: Option<String>,
        /// The error.
        error: OAuthError,
    },
}

/// A refusal that must not be redirected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizeRefusal {
    /// No `client_id`.
    MissingClientId,
    /// A `client_id` the hub does not know.
    UnknownClient,
    /// No `redirect_uri`.
    MissingRedirectUri,
    /// A `redirect_uri` not registered for the client.
    UnregisteredRedirectUri,
}

/// Looks up the client of `raw` and checks its redirect URI: until both are trusted, no
/// redirect may be sent anywhere.
pub fn client_id_of(raw: &RawAuthorizationRequest) -> Result<SpId, AuthorizeError> {
    raw.client_id
        .as_deref()
        .filter(|id| !id.is_empty())
        .map(SpId::new)
        .ok_or(AuthorizeError::NotRedirectable(AuthorizeRefusal::MissingClientId))
}

/// Validates `raw` for the registered `sp` (`None` when the client is unknown).
pub fn validate(
    raw: &RawAuthorizationRequest,
    sp: Option<&ServiceProvider>,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let sp = sp.ok_or(AuthorizeError::NotRedirectable(AuthorizeRefusal::UnknownClient))?;
    let redirect_uri =
        raw.redirect_uri.as_deref().ok_or(AuthorizeError::NotRedirectable(AuthorizeRefusal::MissingRedirectUri))?;
    if !sp.has_redirect_uri(redirect_uri) {
        return Err(AuthorizeError::NotRedirectable(AuthorizeRefusal::UnregisteredRedirectUri));
    }
    let state = raw.state.clone().filter(|s| !s.is_empty());
    let refuse = |code: ErrorCode, description: &str| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.to_owned(),
        state: state.clone(),
        error: OAuthError::new(code, description),
    };

    if raw.request.is_some() {
        return Err(refuse(ErrorCode::RequestNotSupported, "request objects are not supported"));
    }
    if raw.request_uri.is_some() {
        return Err(refuse(ErrorCode::RequestUriNotSupported, "request_uri is not supported"));
    }
    match raw.response_type.as_deref() {
        Some("code") => {}
        None => return Err(refuse(ErrorCode::InvalidRequest, "response_type is required")),
        Some(_) => return Err(refuse(ErrorCode::UnsupportedResponseType, "only response_type=code is supported")),
    }
    if raw.response_mode.as_deref().is_some_and(|mode| mode != "query") {
        return Err(refuse(ErrorCode::InvalidRequest, "only response_mode=query is supported"));
    }
    let requested = raw.scope.as_deref().unwrap_or_default();
    let not_allowed =
        |scope: &str| refuse(ErrorCode::InvalidScope, &format!("scope `{scope}` is not allowed for this client"));
    let (scopes, agent_claims) = match sp.profile {
        Profile::Citizen => match ScopeSet::from_request(requested, &sp.scopes) {
            Ok(scopes) => (scopes, Default::default()),
            Err(ScopeRequestError::MissingOpenId) => {
                return Err(refuse(ErrorCode::InvalidScope, "the openid scope is required"))
            }
            Err(ScopeRequestError::NotRegistered(scope)) => return Err(not_allowed(&scope)),
        },
        Profile::Agent => match agent_claims_of_request(requested, &sp.agent_claims) {
            Ok(claims) => (ScopeSet::from_scopes([Scope::OpenId]), claims),
            Err(AgentScopeError::MissingOpenId) => {
                return Err(refuse(ErrorCode::InvalidScope, "the openid scope is required"))
            }
            Err(AgentScopeError::NotRegistered(scope)) => return Err(not_allowed(&scope)),
        },
    };
    let Some(state_value) = state.clone() else {
        return Err(refuse(ErrorCode::InvalidRequest, "state is required"));
    };
    let nonce = match raw.nonce.as_deref() {
        Some(nonce) if !nonce.is_empty() => nonce.to_owned(),
        _ => return Err(refuse(ErrorCode::InvalidRequest, "nonce is required")),
    };
    let code_challenge = match (raw.code_challenge.as_deref(), raw.code_challenge_method.as_deref()) {
        (None, None) if sp.authentication.is_public() => {
            return Err(refuse(
                ErrorCode::InvalidRequest,
                "PKCE (code_challenge with S256) is required for public clients",
            ))
        }
        (None, None) => None,
        (None, Some(_)) => {
            return Err(refuse(ErrorCode::InvalidRequest, "code_challenge_method without code_challenge"))
        }
        (Some(_), method) if method != Some("S256") => {
            return Err(refuse(ErrorCode::InvalidRequest, "code_challenge_method must be S256"))
        }
        (Some(challenge), _) if !pkce::is_s256_challenge(challenge) => {
            return Err(refuse(ErrorCode::InvalidRequest, "code_challenge is malformed"))
        }
        (Some(challenge), _) => Some(challenge.to_owned()),
    };
    let prompt = parse_prompt(raw.prompt.as_deref()).map_err(|message| refuse(ErrorCode::InvalidRequest, message))?;
    let max_age = match raw.max_age.as_deref() {
        None => None,
        Some(value) => Some(
            value
                .parse::<u64>()
                .map_err(|_| refuse(ErrorCode::InvalidRequest, "max_age must be a number of seconds"))?,
        ),
    };
    let requested_level = raw.acr_values.as_deref().and_then(EidasLevel::minimum_of_acr_values);
    let required_level = requested_level.map_or(sp.minimum_level, |level| level.max(sp.minimum_level));

    Ok(AuthorizationRequest {
        sp: sp.id.clone(),
        redirect_uri: RedirectUri::new(redirect_uri),
        state: State::new(state_value),
        nonce: Nonce::new(nonce),
        scopes,
        required_level,
        code_challenge: code_challenge.map(CodeChallenge::new),
        prompt,
        idp_hint: raw.idp_hint.as_deref().filter(|h| !h.is_empty()).map(IdpId::new),
        max_age,
        expected_sub: None,
        transfers: Vec::new(),
        ui_locales: raw
            .ui_locales
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty() && l.len() <= 200)
            .map(str::to_owned),
        agent_claims,
        login_hint: raw
            .login_hint
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty() && h.len() <= 320)
            .map(str::to_owned),
    })
}

/// `prompt` values: `login` and `none` change the flow; `consent` and `select_account` are
/// accepted and need nothing more (the hub asks consent when data is shared); `none` with
/// anything else is contradictory (OpenID Connect Core 3.1.2.1).
fn parse_prompt(prompt: Option<&str>) -> Result<Prompt, &'static str> {
    let values: Vec<&str> = prompt.unwrap_or_default().split_ascii_whitespace().collect();
    if values.contains(&"none") {
        return if values.len() == 1 { Ok(Prompt::None) } else { Err("prompt=none cannot be combined") };
    }
    if values.iter().any(|v| !matches!(*v, "login" | "consent" | "select_account")) {
        return Err("unsupported prompt value");
    }
    Ok(if values.contains(&"login") { Prompt::Login } else { Prompt::Default })
}

#[cfg(test)]
#[path = "authorize_tests.rs"]
mod tests;
