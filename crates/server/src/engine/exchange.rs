//! The person concerned by an agent's request ([`relais_domain::agent::reference`]): the
//! sealed reference a citizen service receives at the person's sign-in, and the token
//! exchange (RFC 8693) by which the agent instructing the file gets a token about that person
//! only, under the habilitation of their organisation. The hub stores no identity for it: the
//! reference travels sealed with the file, and the token lives as long as an access token.

use relais_domain::agent::reference::{
    exchange_scopes, exchanged_access, ExchangeRefusal, PersonReference, ACCESS_TOKEN_TYPE, SEALING_CONTEXT,
};
use relais_domain::flow::{AccessGrant, AuthenticatedSession, AuthorizationRequest};
use relais_domain::step::StepEvent;
use relais_domain::{PersonKey, Scope, ServiceProvider};
use relais_oidc::random::{digest, random_token};
use relais_oidc::token::RawTokenRequest;
use relais_oidc::token_exchange::TokenExchangeRequest;
use relais_oidc::{ErrorCode, OAuthError};
use relais_store::{Namespace, StoreError};
use serde_json::{json, Value};

use super::support::access;
use crate::error::ApiError;
use crate::state::AppState;

/// The sealed person reference for a citizen's sign-in at `sp`, when the request asked for it
/// (`None` for an agent, or without the scope).
pub fn person_reference(
    state: &AppState,
    request: &AuthorizationRequest,
    session: &AuthenticatedSession,
) -> Result<Option<String>, StoreError> {
    let Some(pivot) = session.subject().pivot().filter(|_| request.scopes.contains(Scope::PersonReference)) else {
        return Ok(None);
    };
    let reference = PersonReference {
        pivot: pivot.clone(),
        idp: session.idp.clone(),
        service: request.sp.clone(),
        expires_at: state.clock.now().plus(state.settings.person_reference_lifetime),
    };
    let clear = serde_json::to_string(&reference).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    state.references.seal_text(SEALING_CONTEXT, &clear).map(Some)
}

/// The reference `text` opened, if it is one this hub sealed and nobody altered.
pub(crate) fn open(state: &AppState, text: &str) -> Option<PersonReference> {
    let clear = state.references.open_text(SEALING_CONTEXT, text).ok()?;
    serde_json::from_str(&clear).ok()
}

fn refuse(code: ErrorCode, description: impl Into<String>) -> ApiError {
    ApiError::OAuth { error: OAuthError::new(code, description), basic: false }
}

/// The token exchange of `sp`, an authenticated agent service: the reference opened, the
/// agent's token live and its own, each scope asked covered by a habilitation of the agent's
/// organisation that instructs the files of the service that received the reference; the new
/// token in RFC 8693's answer.
#[tracing::instrument(skip_all, fields(sp = %sp.id))]
pub async fn exchange(state: &AppState, sp: &ServiceProvider, form: &RawTokenRequest) -> Result<Value, ApiError> {
    let request = TokenExchangeRequest::parse(form).map_err(|error| ApiError::OAuth { error, basic: false })?;
    // A live token of this client's agent, granting data, not already about a person.
    let actor: Option<AccessGrant> =
        access::live(state, request.actor_token).await?.filter(|a| a.sp == sp.id && a.data.pivot.is_none());
    let Some((actor, agent)) = actor.as_ref().and_then(|a| a.data.agent.as_ref().map(|agent| (a, agent))) else {
        let why = "the actor_token is not a live access token of this client's agent, granting data";
        return Err(refuse(ErrorCode::InvalidGrant, why));
    };
    let Some(reference) = open(state, request.subject_token) else {
        tracing::warn!(client_id = %sp.id, "person reference refused: not sealed by this hub, or altered");
        return Err(refuse(ErrorCode::InvalidGrant, "the subject_token is not a person reference of this hub"));
    };
    let now = state.clock.now();
    let habilitations = state.registry.habilitations().await?;
    let granted = exchange_scopes(&agent.agent, &actor.data.transfers, request.scope, &reference, &habilitations, now)
        .map_err(|refusal| {
            tracing::warn!(client_id = %sp.id, reason = %refusal, "token exchange refused");
            let code = if refusal.is_about_scope() { ErrorCode::InvalidScope } else { ErrorCode::InvalidGrant };
            let description = match &refusal {
                ExchangeRefusal::NoDataScope => {
                    "the actor_token grants no data scope: the agent must sign in asking for one".to_owned()
                }
                other => other.to_string(),
            };
            refuse(code, description)
        })?;
    let person = PersonKey::derive(&state.settings.pairwise_secret, &reference.pivot);
    let lifetime = state.settings.access_token_lifetime;
    let service = reference.service.clone();
    let access = exchanged_access(actor, agent, reference, person, &granted, now, lifetime);
    let token = random_token();
    let expires_in = access.expires_at.0.saturating_sub(now.0).max(1);
    state.records.put(Namespace::AccessToken, &digest(&token), &access, expires_in).await?;
    let scope = granted.iter().map(|(transfer, _)| transfer.scope.as_str()).collect::<Vec<_>>().join(" ");
    let detail = format!("token_exchange citizen_service={service} scopes={scope}");
    state.tracer.emit(StepEvent::token_issued(&sp.id, actor.grant.acr).with_detail(detail)).await?;
    Ok(json!({
        "access_token": token,
        "issued_token_type": ACCESS_TOKEN_TYPE,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": scope,
    }))
}
