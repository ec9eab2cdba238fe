//! `/api/admin/identity-providers`: where people prove who they are.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use relais_domain::ids::ActorRef;
use relais_domain::providers::UpstreamClientAuth;
use relais_domain::registration::{check_among_identity_providers, IdentityProviderRegistration, DEFAULT_IDP_SCOPES};
use relais_domain::{IdentityProvider, IdpId, IdpPolicy, Secret};
use relais_store::{Put, Source};

use super::bodies::{self, IdentityProviderBody, IdentityProviderView};
use super::{
    answer, put_outcome, removed, source_of, traced, with_sources, writable, AdminError, ErrorBody, Id, Operator,
};
use crate::state::AppState;

fn view(idp: &IdentityProvider, source: Source) -> IdentityProviderView {
    IdentityProviderView {
        id: idp.id.to_string(),
        display_name: idp.display_name.clone(),
        issuer: idp.issuer.to_string(),
        client_id: idp.client_id.clone(),
        eidas_level: idp.level.as_acr().to_owned(),
        enabled: idp.enabled,
        scopes: idp.scopes.clone(),
        require_acr: idp.require_acr,
        token_endpoint_auth_method: idp.token_auth.name().to_owned(),
        profile: idp.profile.as_str().to_owned(),
        domains: idp.agent_domains.iter().map(|domain| domain.as_str().to_owned()).collect(),
        default_for_agents: idp.agent_default,
        source: source.into(),
    }
}

/// Every identity provider, in the choice page's order.
#[utoipa::path(get, path = "/api/admin/identity-providers", tag = "identity-providers",
    responses(
        (status = 200, description = "Every identity provider, enabled or not", body = Vec<IdentityProviderView>),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 503, description = "The registry cannot be reached", body = ErrorBody),
    ))]
pub async fn list(State(state): State<AppState>, _operator: Operator) -> Result<Response, AdminError> {
    let actor: fn(&IdentityProvider) -> ActorRef<'_> = |idp| ActorRef::IdentityProvider(&idp.id);
    let views = with_sources(&state, state.registry.identity_providers().await?, actor, view).await?;
    Ok(answer(StatusCode::OK, views))
}

async fn registered(state: &AppState, id: &str) -> Result<(IdentityProvider, Source), AdminError> {
    let id = IdpId::new(id);
    let source = source_of(state, ActorRef::IdentityProvider(&id)).await?;
    let missing = || {
        AdminError::not_found(format!("no identity provider `{id}`"), format!("aucun fournisseur d'identité `{id}`"))
    };
    Ok((state.registry.identity_provider(&id).await?.ok_or_else(missing)?, source))
}

/// One identity provider.
#[utoipa::path(get, path = "/api/admin/identity-providers/{id}", tag = "identity-providers",
    params(("id" = String, Path, description = "Its id")),
    responses(
        (status = 200, description = "The identity provider", body = IdentityProviderView),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 404, description = "No such identity provider", body = ErrorBody),
        (status = 503, description = "The registry cannot be reached", body = ErrorBody),
    ))]
pub async fn one(State(state): State<AppState>, _operator: Operator, Id(id): Id) -> Result<Response, AdminError> {
    let (idp, source) = registered(&state, &id).await?;
    Ok(answer(StatusCode::OK, view(&idp, source)))
}

fn client_auth(value: Option<&str>) -> Result<UpstreamClientAuth, AdminError> {
    match value {
        None | Some("client_secret_basic") => Ok(UpstreamClientAuth::SecretBasic),
        Some("client_secret_post") => Ok(UpstreamClientAuth::SecretPost),
        Some(_) => Err(AdminError::invalid(
            "token_endpoint_auth_method",
            "must be client_secret_basic or client_secret_post",
            "doit être client_secret_basic ou client_secret_post",
        )),
    }
}

/// Registers or replaces an identity provider.
#[utoipa::path(put, path = "/api/admin/identity-providers/{id}", tag = "identity-providers",
    params(("id" = String, Path, description = "Its id (letters, digits, `-`, `_`: part of the callback URL)")),
    request_body = IdentityProviderBody,
    responses(
        (status = 201, description = "Registered", body = IdentityProviderView),
        (status = 200, description = "Replaced", body = IdentityProviderView),
        (status = 400, description = "A field is wrong: nothing changed", body = ErrorBody),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 409, description = "Declared in the configuration file", body = ErrorBody),
        (status = 503, description = "The registry cannot be reached", body = ErrorBody),
    ))]
pub async fn put(
    State(state): State<AppState>,
    operator: Operator,
    Id(id): Id,
    body: Bytes,
) -> Result<Response, AdminError> {
    let body: IdentityProviderBody = bodies::parse(&body)?;
    let issuer = url::Url::parse(&body.issuer)
        .map_err(|e| AdminError::invalid("issuer", format!("not a URL: {e}"), format!("n'est pas une URL : {e}")))?;
    let idps = state.registry.identity_providers().await?;
    let current = idps.iter().position(|idp| idp.id.as_str() == id);
    // A replacement that gives no secret keeps the current one.
    let client_secret = match (body.client_secret, current) {
        (Some(secret), _) => Some(Secret::new(secret)),
        (None, Some(index)) => Some(idps[index].client_secret.clone()),
        (None, None) => None,
    };
    let registration = IdentityProviderRegistration {
        id,
        display_name: body.display_name,
        issuer,
        client_id: body.client_id,
        client_secret,
        eidas_level: bodies::level("eidas_level", &body.eidas_level)?,
        enabled: body.enabled.unwrap_or(true),
        scopes: body.scopes.unwrap_or_else(|| DEFAULT_IDP_SCOPES.iter().map(|s| s.to_string()).collect()),
        require_acr: body.require_acr.unwrap_or(true),
        token_endpoint_auth_method: client_auth(body.token_endpoint_auth_method.as_deref())?,
        profile: bodies::profile(body.profile.as_deref())?,
        domains: body.domains,
        default_for_agents: body.default_for_agents,
    };
    let idp = registration.register()?;
    check_among_identity_providers(&idp, &idps)?;
    let position = match (body.position, current) {
        (Some(position), _) => position,
        (None, Some(index)) => index as i64,
        (None, None) => idps.len() as i64,
    };
    let before = writable(&state, ActorRef::IdentityProvider(&idp.id)).await?;
    let at = state.clock.now().0;
    state.registry_writer.put_identity_provider(Put { actor: &idp, source: Source::Registered, at }, position).await?;
    let (change, status) = put_outcome(before);
    traced(&state, &operator, ActorRef::IdentityProvider(&idp.id), change).await?;
    Ok(answer(status, view(&idp, Source::Registered)))
}

/// Removes an identity provider.
#[utoipa::path(delete, path = "/api/admin/identity-providers/{id}", tag = "identity-providers",
    params(("id" = String, Path, description = "Its id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 404, description = "No such identity provider", body = ErrorBody),
        (status = 409, description = "Declared in the configuration file, or named by a service provider's policy", body = ErrorBody),
        (status = 503, description = "The registry cannot be reached", body = ErrorBody),
    ))]
pub async fn remove(State(state): State<AppState>, operator: Operator, Id(id): Id) -> Result<Response, AdminError> {
    let (idp, _) = registered(&state, &id).await?;
    let actor = ActorRef::IdentityProvider(&idp.id);
    writable(&state, actor).await?;
    let users: Vec<String> = state
        .registry
        .service_providers()
        .await?
        .into_iter()
        .filter(|sp| match &sp.idp_policy {
            IdpPolicy::All => false,
            IdpPolicy::AllowOnly(list) | IdpPolicy::Deny(list) => list.contains(&idp.id),
        })
        .map(|sp| format!("`{}`", sp.id))
        .collect();
    if !users.is_empty() {
        return Err(AdminError::conflict(
            format!("`{}` is named by the policy of {}: change those first", idp.id, users.join(", ")),
            format!("`{}` est cité par la politique de {} : modifiez-les d'abord", idp.id, users.join(", ")),
        ));
    }
    state.registry_writer.remove(actor).await?;
    traced(&state, &operator, actor, "removed").await?;
    Ok(removed())
}
