//! Checktoken: a data provider, called by a service with an access token, asks the hub whether
//! the token is active and what it covers for that provider only (RFC 7662 shape; a signed
//! JWT, RFC 9701, for providers registered for it or asking for it). The answer names the
//! service, gives a `sub` pairwise for the provider and the pivot identity to find the person's
//! record, nothing more. Every call is traced.

use relais_domain::flow::{AccessGrant, AgentAccess};
use relais_domain::providers::IdTokenAlgorithm;
use relais_domain::step::{CheckedToken, StepEvent};
use relais_domain::{DataProvider, DpId, PairwiseSub, Sector};
use relais_oidc::introspection::{IntrospectionJwtClaims, IntrospectionResponse};
use relais_oidc::token::{presented_credentials, PresentedCredentials, RawTokenRequest};
use relais_oidc::{ErrorCode, OAuthError};

use super::support::access;
use crate::error::ApiError;
use crate::state::AppState;

/// The checktoken form. `Debug` hides the token and the secret.
#[derive(Default, serde::Deserialize)]
pub struct CheckTokenForm {
    /// The SP's access token.
    pub token: Option<String>,
    /// Ignored (only access tokens exist).
    pub token_type_hint: Option<String>,
    /// For `client_secret_post`-style authentication.
    pub client_id: Option<String>,
    /// For `client_secret_post`-style authentication.
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for CheckTokenForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckTokenForm").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

/// A checktoken answer: JSON, or a signed JWT.
pub enum CheckTokenAnswer {
    /// `application/json`
    Json(IntrospectionResponse),
    /// `application/token-introspection+jwt`
    Jwt(String),
}

async fn authenticate(
    state: &AppState,
    authorization: Option<&str>,
    form: &CheckTokenForm,
) -> Result<DataProvider, ApiError> {
    let raw = RawTokenRequest {
        client_id: form.client_id.clone(),
        client_secret: form.client_secret.clone(),
        ..Default::default()
    };
    let credentials =
        presented_credentials(authorization, &raw).map_err(|error| ApiError::OAuth { error, basic: true })?;
    let failure = || ApiError::OAuth {
        error: OAuthError::new(ErrorCode::InvalidClient, "data provider authentication failed"),
        basic: true,
    };
    let (id, secret) = match credentials {
        PresentedCredentials::Basic { client_id, secret } | PresentedCredentials::Post { client_id, secret } => {
            (client_id, secret)
        }
        _ => return Err(failure()),
    };
    let provider = state.registry.data_provider(&DpId::new(id)).await?.ok_or_else(failure)?;
    if !provider.secret.matches(provider.id.as_str(), &secret) {
        return Err(failure());
    }
    Ok(provider)
}

/// The checktoken endpoint; `wants_jwt`: the provider's `Accept` asks for the signed answer.
#[tracing::instrument(skip_all, fields(dp))]
pub async fn checktoken(
    state: &AppState,
    authorization: Option<&str>,
    form: &CheckTokenForm,
    wants_jwt: bool,
) -> Result<CheckTokenAnswer, ApiError> {
    let provider = authenticate(state, authorization, form).await?;
    tracing::Span::current().record("dp", provider.id.as_str());
    let now = state.clock.now();
    // RFC 7662 section 2.1: `token` is required.
    let token = form
        .token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::oauth(ErrorCode::InvalidRequest, "token is required"))?;
    let access = access::live(state, token).await?;
    if let Some(agent_access) = access.as_ref().and_then(|a| a.data.agent.as_ref().map(|agent| (a, agent))) {
        let answer = agent_checktoken(state, &provider, agent_access.0, agent_access.1).await?;
        return sign_if_asked(state, &provider, wants_jwt, answer);
    }
    // Only the scopes this provider still grants the client: a habilitation revoked since the
    // sign-in fetches nothing more.
    let scopes: Vec<String> = access
        .iter()
        .flat_map(|a| a.data.scopes_of(&provider.id).filter(|scope| provider.allows(&a.sp, scope)))
        .collect();
    let active = match (&access, access.as_ref().and_then(|a| a.data.pivot.as_ref())) {
        (Some(access), Some(pivot)) if !scopes.is_empty() => {
            let sector = Sector::of_data_provider(&provider.id);
            Some((access, pivot, PairwiseSub::derive(&state.settings.pairwise_secret, &sector, pivot)))
        }
        _ => None,
    };
    let checked = access.as_ref().map(|a| CheckedToken {
        person: a.data.person.as_str(),
        sub: active.as_ref().map(|(_, _, sub)| sub),
        sp: &a.sp,
        idp: &a.data.idp,
    });
    state.tracer.emit(StepEvent::checktoken(now, &provider.id, checked, scopes.clone(), active.is_some())).await?;

    let answer = match &active {
        Some((access, pivot, sub)) => IntrospectionResponse::active(access, &scopes, sub, pivot),
        None => IntrospectionResponse::inactive(),
    };
    sign_if_asked(state, &provider, wants_jwt, answer)
}

/// An agent's token: the scopes of this provider whose habilitation is still live (a
/// habilitation may have ended, or been withdrawn, since the sign-in), the agent, their
/// organisation and those habilitations. A token about a person (from the token exchange)
/// also gives what a citizen transfer gives, the provider's pairwise `sub` and the pivot
/// identity, and its habilitations must still instruct the files of the person's citizen
/// service; the call is traced under the person's key with the organisation and the
/// habilitations (no agent), so the person sees it on their dashboard.
async fn agent_checktoken(
    state: &AppState,
    provider: &DataProvider,
    access: &AccessGrant,
    agent: &AgentAccess,
) -> Result<IntrospectionResponse, ApiError> {
    let now = state.clock.now();
    let registered = state.registry.habilitations().await?;
    let mut scopes = Vec::new();
    let mut habilitations = Vec::new();
    for scope in access.data.scopes_of(&provider.id) {
        let live = agent
            .habilitations
            .get(&scope)
            .and_then(|id| registered.iter().find(|h| &h.id == id))
            .filter(|h| h.covers(&agent.agent.siret, &provider.id, &scope, now))
            .filter(|h| agent.citizen_service.as_ref().is_none_or(|service| h.instructs_files_of(service)));
        if let Some(habilitation) = live {
            habilitations.push(habilitation);
            scopes.push(scope);
        }
    }
    let active = !scopes.is_empty();
    // About a person: their `sub` for this provider, derived only when it is told.
    let person = access.data.pivot.as_ref().filter(|_| active).map(|pivot| {
        let sector = Sector::of_data_provider(&provider.id);
        (PairwiseSub::derive(&state.settings.pairwise_secret, &sector, pivot), pivot)
    });
    let sub = person.as_ref().map(|(sub, _)| sub);
    let checked = CheckedToken { person: access.data.person.as_str(), sub, sp: &access.sp, idp: &access.data.idp };
    let event = StepEvent::checktoken(now, &provider.id, Some(checked), scopes.clone(), active);
    let ids: Vec<&str> = habilitations.iter().map(|h| h.id.as_str()).collect();
    let event = match access.data.pivot {
        Some(_) => event.by_organisation(agent.agent.siret.as_str(), &ids),
        None => event,
    };
    state.tracer.emit(event.with_detail(format!("habilitations={}", ids.join(",")))).await?;
    Ok(if active {
        let person = person.as_ref().map(|(sub, pivot)| (sub, *pivot));
        IntrospectionResponse::active_agent(access, agent, &scopes, &habilitations, person)
    } else {
        IntrospectionResponse::inactive()
    })
}

fn sign_if_asked(
    state: &AppState,
    provider: &DataProvider,
    wants_jwt: bool,
    answer: IntrospectionResponse,
) -> Result<CheckTokenAnswer, ApiError> {
    let now = state.clock.now();
    if !(provider.signed_checktoken || wants_jwt) {
        return Ok(CheckTokenAnswer::Json(answer));
    }
    let claims = IntrospectionJwtClaims::new(&state.endpoints.issuer, &provider.id, now.0, &answer);
    let jwt = state.keys().sign_typed(IdTokenAlgorithm::RS256, &claims, now.0, "token-introspection+jwt").map_err(
        |error| {
            tracing::error!(%error, "checktoken answer signing failed");
            ApiError::oauth(ErrorCode::ServerError, "the answer could not be signed")
        },
    )?;
    Ok(CheckTokenAnswer::Jwt(jwt))
}
