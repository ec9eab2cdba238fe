//! `/api/admin/service-providers`: the services people sign in to.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use relais_domain::ids::ActorRef;
use relais_domain::providers::{ClientAuthentication, IdTokenAlgorithm};
use relais_domain::registration::{ServiceProviderRegistration, TokenEndpointAuthMethod};
use relais_domain::{IdpId, IdpPolicy, Secret, SecretDigest, ServiceProvider, SpId};
use relais_store::{Put, Source};

use super::bodies::{self, IssuedSecret, ServiceProviderBody, ServiceProviderView, ServiceProviderWritten};
use super::{
    answer, put_outcome, removed, source_of, traced, with_sources, writable, AdminError, ErrorBody, Id, Operator,
};
use crate::state::AppState;

fn view(sp: &ServiceProvider, source: Source) -> ServiceProviderView {
    let ids = |list: &[IdpId]| Some(list.iter().map(ToString::to_string).collect());
    let (allowed_idps, denied_idps) = match &sp.idp_policy {
        IdpPolicy::All => (None, None),
        IdpPolicy::AllowOnly(list) => (ids(list), None),
        IdpPolicy::Deny(list) => (None, ids(list)),
    };
    ServiceProviderView {
        client_id: sp.id.to_string(),
        client_name: sp.name.clone(),
        token_endpoint_auth_method: sp.authentication.method_name().to_owned(),
        redirect_uris: sp.redirect_uris.clone(),
        post_logout_redirect_uris: sp.post_logout_redirect_uris.clone(),
        scope: sp.scope_value(),
        id_token_signed_response_alg: crate::keys::algorithm_name(sp.id_token_algorithm).to_owned(),
        sector_identifier: sp.sector.as_str().to_owned(),
        allowed_idps,
        denied_idps,
        minimum_eidas_level: sp.minimum_level.as_acr().to_owned(),
        profile: sp.profile.as_str().to_owned(),
        public_agents_only: sp.public_agents_only,
        source: source.into(),
    }
}

/// Every service provider.
#[utoipa::path(get, path = "/api/admin/service-providers", tag = "service-providers",
    responses(
        (status = 200, description = "Every service provider, by client_id", body = Vec<ServiceProviderView>),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 503, description = "The registry cannot be reached", body = ErrorBody),
    ))]
pub async fn list(State(state): State<AppState>, _operator: Operator) -> Result<Response, AdminError> {
    let actor: fn(&ServiceProvider) -> ActorRef<'_> = |sp| ActorRef::ServiceProvider(&sp.id);
    let views = with_sources(&state, state.registry.service_providers().await?, actor, view).await?;
    Ok(answer(StatusCode::OK, views))
}

async fn registered(state: &AppState, client_id: &str) -> Result<(ServiceProvider, Source), AdminError> {
    let id = SpId::new(client_id);
    let source = source_of(state, ActorRef::ServiceProvider(&id)).await?;
    let missing = || {
        AdminError::not_found(
            format!("no service provider `{client_id}`"),
            format!("aucun fournisseur de service `{client_id}`"),
        )
    };
    Ok((state.registry.service_provider(&id).await?.ok_or_else(missing)?, source))
}

/// One service provider.
#[utoipa::path(get, path = "/api/admin/service-providers/{client_id}", tag = "service-providers",
    params(("client_id" = String, Path, description = "Its client_id")),
    responses(
        (status = 200, description = "The service provider", body = ServiceProviderView),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 404, description = "No such service provider", body = ErrorBody),
        (status = 503, description = "The registry cannot be reached", body = ErrorBody),
    ))]
pub async fn one(
    State(state): State<AppState>,
    _operator: Operator,
    Id(client_id): Id,
) -> Result<Response, AdminError> {
    let (sp, source) = registered(&state, &client_id).await?;
    Ok(answer(StatusCode::OK, view(&sp, source)))
}

fn method(value: Option<&str>) -> Result<TokenEndpointAuthMethod, AdminError> {
    match value {
        None | Some("client_secret_basic") => Ok(TokenEndpointAuthMethod::ClientSecretBasic),
        Some("client_secret_post") => Ok(TokenEndpointAuthMethod::ClientSecretPost),
        Some("private_key_jwt") => Ok(TokenEndpointAuthMethod::PrivateKeyJwt),
        Some("none") => Ok(TokenEndpointAuthMethod::None),
        Some(_) => Err(AdminError::invalid(
            "token_endpoint_auth_method",
            "must be client_secret_basic, client_secret_post, private_key_jwt or none",
            "doit être client_secret_basic, client_secret_post, private_key_jwt ou none",
        )),
    }
}

fn algorithm(value: Option<&str>) -> Result<IdTokenAlgorithm, AdminError> {
    match value {
        None | Some("RS256") => Ok(IdTokenAlgorithm::RS256),
        Some("ES256") => Ok(IdTokenAlgorithm::ES256),
        Some(_) => Err(AdminError::invalid(
            "id_token_signed_response_alg",
            "must be RS256 or ES256",
            "doit être RS256 ou ES256",
        )),
    }
}

/// The registration of `body` as `client_id`, with `secret` for a secret method.
fn registration(
    client_id: String,
    body: ServiceProviderBody,
    secret: Option<Secret>,
) -> Result<ServiceProviderRegistration, AdminError> {
    let jwks = match body.jwks {
        None => None,
        Some(jwks @ serde_json::Value::Object(_)) => Some(jwks.to_string()),
        Some(_) => {
            return Err(AdminError::invalid(
                "jwks",
                "must be a JWK Set (a JSON object with `keys`)",
                "doit être un JWK Set (un objet JSON avec `keys`)",
            ))
        }
    };
    Ok(ServiceProviderRegistration {
        client_id,
        client_name: body.client_name,
        token_endpoint_auth_method: method(body.token_endpoint_auth_method.as_deref())?,
        client_secret: secret,
        jwks,
        redirect_uris: body.redirect_uris,
        post_logout_redirect_uris: body.post_logout_redirect_uris,
        scopes: body.scope.split_ascii_whitespace().map(str::to_owned).collect(),
        id_token_signed_response_alg: algorithm(body.id_token_signed_response_alg.as_deref())?,
        sector_identifier: body.sector_identifier,
        allowed_idps: body.allowed_idps,
        denied_idps: body.denied_idps,
        minimum_eidas_level: body
            .minimum_eidas_level
            .as_deref()
            .map(|level| bodies::level("minimum_eidas_level", level))
            .transpose()?,
        profile: bodies::profile(body.profile.as_deref())?,
        public_agents_only: body.public_agents_only,
    })
}

/// The digest a secret method keeps, if any.
fn secret_digest(authentication: &ClientAuthentication) -> Option<&SecretDigest> {
    match authentication {
        ClientAuthentication::SecretBasic(digest) | ClientAuthentication::SecretPost(digest) => Some(digest),
        ClientAuthentication::PrivateKeyJwt { .. } | ClientAuthentication::None => None,
    }
}

/// The same method with another digest.
fn with_digest(authentication: ClientAuthentication, digest: SecretDigest) -> ClientAuthentication {
    match authentication {
        ClientAuthentication::SecretBasic(_) => ClientAuthentication::SecretBasic(digest),
        ClientAuthentication::SecretPost(_) => ClientAuthentication::SecretPost(digest),
        other => other,
    }
}

/// Registers or replaces a service provider.
#[utoipa::path(put, path = "/api/admin/service-providers/{client_id}", tag = "service-providers",
    params(("client_id" = String, Path, description = "Its client_id (visible ASCII, no spaces)")),
    request_body = ServiceProviderBody,
    responses(
        (status = 201, description = "Registered; a generated secret is shown once", body = ServiceProviderWritten),
        (status = 200, description = "Replaced", body = ServiceProviderWritten),
        (status = 400, description = "A field is wrong: nothing changed", body = ErrorBody),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 409, description = "Declared in the configuration file", body = ErrorBody),
        (status = 503, description = "The registry cannot be reached", body = ErrorBody),
    ))]
pub async fn put(
    State(state): State<AppState>,
    operator: Operator,
    Id(client_id): Id,
    body: Bytes,
) -> Result<Response, AdminError> {
    let body: ServiceProviderBody = bodies::parse(&body)?;
    let with_secret = matches!(
        method(body.token_endpoint_auth_method.as_deref())?,
        TokenEndpointAuthMethod::ClientSecretBasic | TokenEndpointAuthMethod::ClientSecretPost
    );
    let given = body.client_secret.clone().map(Secret::new);
    let mut generated = (given.is_none() && with_secret).then(relais_oidc::random::random_token);
    let secret = given.or_else(|| generated.clone().map(Secret::new));
    let known_idps: Vec<IdpId> = state.registry.identity_providers().await?.into_iter().map(|idp| idp.id).collect();
    let mut sp = registration(client_id, body, secret)?.register(&known_idps)?;
    let before = writable(&state, ActorRef::ServiceProvider(&sp.id)).await?;
    // A replacement that gives no secret keeps the current one.
    if generated.is_some() {
        let current = state.registry.service_provider(&sp.id).await?;
        if let Some(digest) = current.as_ref().and_then(|current| secret_digest(&current.authentication)) {
            sp.authentication = with_digest(sp.authentication, digest.clone());
            generated = None;
        }
    }
    let at = state.clock.now().0;
    state.registry_writer.put_service_provider(Put { actor: &sp, source: Source::Registered, at }).await?;
    let (change, status) = put_outcome(before);
    traced(&state, &operator, ActorRef::ServiceProvider(&sp.id), change).await?;
    Ok(answer(status, ServiceProviderWritten { registration: view(&sp, Source::Registered), client_secret: generated }))
}

/// Removes a service provider.
#[utoipa::path(delete, path = "/api/admin/service-providers/{client_id}", tag = "service-providers",
    params(("client_id" = String, Path, description = "Its client_id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 404, description = "No such service provider", body = ErrorBody),
        (status = 409, description = "Declared in the configuration file, or still named by a data provider or a habilitation", body = ErrorBody),
        (status = 503, description = "The registry cannot be reached", body = ErrorBody),
    ))]
pub async fn remove(
    State(state): State<AppState>,
    operator: Operator,
    Id(client_id): Id,
) -> Result<Response, AdminError> {
    let (sp, _) = registered(&state, &client_id).await?;
    let actor = ActorRef::ServiceProvider(&sp.id);
    writable(&state, actor).await?;
    let mut users: Vec<String> = Vec::new();
    for dp in state.registry.data_providers().await? {
        if dp.allowed.contains_key(&sp.id) {
            users.push(format!("data provider `{}`", dp.id));
        }
    }
    for habilitation in state.registry.habilitations().await? {
        if habilitation.citizen_services.contains(&sp.id) {
            users.push(format!("habilitation `{}`", habilitation.id));
        }
    }
    if !users.is_empty() {
        return Err(AdminError::conflict(
            format!("`{}` is still named by {}: change those first", sp.id, users.join(", ")),
            format!("`{}` est encore cité par {} : modifiez-les d'abord", sp.id, users.join(", ")),
        ));
    }
    state.registry_writer.remove(actor).await?;
    traced(&state, &operator, actor, "removed").await?;
    Ok(removed())
}

/// Makes a new secret for a service provider (the old one stops working at once on this node,
/// within the registry cache's lifetime on the others).
#[utoipa::path(post, path = "/api/admin/service-providers/{client_id}/client-secret", tag = "service-providers",
    params(("client_id" = String, Path, description = "Its client_id")),
    responses(
        (status = 200, description = "The new secret, shown once", body = IssuedSecret),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 404, description = "No such service provider", body = ErrorBody),
        (status = 409, description = "Declared in the configuration file, or it authenticates without a secret", body = ErrorBody),
        (status = 503, description = "The registry cannot be reached", body = ErrorBody),
    ))]
pub async fn renew_secret(
    State(state): State<AppState>,
    operator: Operator,
    Id(client_id): Id,
) -> Result<Response, AdminError> {
    let (mut sp, _) = registered(&state, &client_id).await?;
    writable(&state, ActorRef::ServiceProvider(&sp.id)).await?;
    if secret_digest(&sp.authentication).is_none() {
        let method = sp.authentication.method_name();
        return Err(AdminError::conflict(
            format!("`{}` authenticates with {method}: it has no secret", sp.id),
            format!("`{}` s'authentifie par {method} : il n'a pas de secret", sp.id),
        ));
    }
    let secret = relais_oidc::random::random_token();
    let digest = SecretDigest::of(sp.id.as_str(), &Secret::new(secret.clone()));
    sp.authentication = with_digest(sp.authentication, digest);
    let at = state.clock.now().0;
    state.registry_writer.put_service_provider(Put { actor: &sp, source: Source::Registered, at }).await?;
    traced(&state, &operator, ActorRef::ServiceProvider(&sp.id), "secret_renewed").await?;
    let issued = IssuedSecret { client_id: sp.id.to_string(), client_secret: secret, client_secret_expires_at: 0 };
    Ok(answer(StatusCode::OK, issued))
}
