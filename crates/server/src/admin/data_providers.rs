//! `/api/admin/data-providers`: the administrations that hold data, their scopes and the
//! citizen services they allow.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use relais_domain::ids::ActorRef;
use relais_domain::registration::{check_among_data_providers, DataProviderRegistration, DataScopeRegistration};
use relais_domain::{DataProvider, DpId, Secret, SecretDigest, SpId};
use relais_store::{Put, Source};

use super::bodies::{self, DataProviderBody, DataProviderView, DataProviderWritten, DataScopeBody, IssuedSecret};
use super::{
    answer, put_outcome, removed, source_of, traced, with_sources, writable, AdminError, ErrorBody, Id, Operator,
};
use crate::state::AppState;

fn view(dp: &DataProvider, source: Source) -> DataProviderView {
    DataProviderView {
        id: dp.id.to_string(),
        name: dp.name.clone(),
        checktoken_format: if dp.signed_checktoken { "jwt" } else { "json" }.to_owned(),
        scopes: dp
            .scopes
            .iter()
            .map(|scope| DataScopeBody {
                name: scope.name.clone(),
                label: scope.label.clone(),
                description: scope.description.clone(),
            })
            .collect(),
        allowed_service_providers: dp.allowed.iter().map(|(sp, scopes)| (sp.to_string(), scopes.clone())).collect(),
        eligibility: dp.about.eligibility.clone(),
        rate_limit_per_minute: dp.about.rate_limit_per_minute,
        openapi: dp.about.api.as_ref().and_then(|api| serde_json::from_str(&api.document).ok()),
        status_url: dp.about.status_url.clone(),
        source: source.into(),
    }
}

/// Every data provider.
#[utoipa::path(get, path = "/api/admin/data-providers", tag = "data-providers",
    responses(
        (status = 200, description = "Every data provider", body = Vec<DataProviderView>),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 503, description = "The registry cannot be reached", body = ErrorBody),
    ))]
pub async fn list(State(state): State<AppState>, _operator: Operator) -> Result<Response, AdminError> {
    let actor: fn(&DataProvider) -> ActorRef<'_> = |dp| ActorRef::DataProvider(&dp.id);
    let views = with_sources(&state, state.registry.data_providers().await?, actor, view).await?;
    Ok(answer(StatusCode::OK, views))
}

async fn registered(state: &AppState, id: &str) -> Result<(DataProvider, Source), AdminError> {
    let id = DpId::new(id);
    let source = source_of(state, ActorRef::DataProvider(&id)).await?;
    let missing =
        || AdminError::not_found(format!("no data provider `{id}`"), format!("aucun fournisseur de données `{id}`"));
    Ok((state.registry.data_provider(&id).await?.ok_or_else(missing)?, source))
}

/// One data provider.
#[utoipa::path(get, path = "/api/admin/data-providers/{id}", tag = "data-providers",
    params(("id" = String, Path, description = "Its id")),
    responses(
        (status = 200, description = "The data provider", body = DataProviderView),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 404, description = "No such data provider", body = ErrorBody),
        (status = 503, description = "The registry cannot be reached", body = ErrorBody),
    ))]
pub async fn one(State(state): State<AppState>, _operator: Operator, Id(id): Id) -> Result<Response, AdminError> {
    let (dp, source) = registered(&state, &id).await?;
    Ok(answer(StatusCode::OK, view(&dp, source)))
}

/// Registers or replaces a data provider.
#[utoipa::path(put, path = "/api/admin/data-providers/{id}", tag = "data-providers",
    params(("id" = String, Path, description = "Its id (letters, digits, `-`, `_`)")),
    request_body = DataProviderBody,
    responses(
        (status = 201, description = "Registered; a generated secret is shown once", body = DataProviderWritten),
        (status = 200, description = "Replaced", body = DataProviderWritten),
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
    let body: DataProviderBody = bodies::parse(&body)?;
    let signed_checktoken = match body.checktoken_format.as_deref() {
        None | Some("json") => false,
        Some("jwt") => true,
        Some(_) => {
            return Err(AdminError::invalid("checktoken_format", "must be json or jwt", "doit être json ou jwt"))
        }
    };
    let mut generated = body.client_secret.is_none().then(relais_oidc::random::random_token);
    let secret = body.client_secret.or_else(|| generated.clone());
    let known_sps: Vec<SpId> = state.registry.service_providers().await?.into_iter().map(|sp| sp.id).collect();
    let registration = DataProviderRegistration {
        id,
        name: body.name,
        client_secret: secret.map(Secret::new),
        signed_checktoken,
        scopes: body
            .scopes
            .into_iter()
            .map(|scope| DataScopeRegistration { name: scope.name, label: scope.label, description: scope.description })
            .collect(),
        allowed_service_providers: body.allowed_service_providers,
        eligibility: body.eligibility,
        rate_limit_per_minute: body.rate_limit_per_minute,
        openapi: body.openapi.map(|document| document.to_string()),
        status_url: body.status_url,
    };
    let mut dp = registration.register(&known_sps)?;
    let others = state.registry.data_providers().await?;
    check_among_data_providers(&dp, &others)?;
    let before = writable(&state, ActorRef::DataProvider(&dp.id)).await?;
    // A replacement that gives no secret keeps the current one.
    if let (Some(_), Some(current)) = (&generated, others.iter().find(|other| other.id == dp.id)) {
        dp.secret = current.secret.clone();
        generated = None;
    }
    let at = state.clock.now().0;
    state.registry_writer.put_data_provider(Put { actor: &dp, source: Source::Registered, at }).await?;
    let (change, status) = put_outcome(before);
    traced(&state, &operator, ActorRef::DataProvider(&dp.id), change).await?;
    Ok(answer(status, DataProviderWritten { registration: view(&dp, Source::Registered), client_secret: generated }))
}

/// Removes a data provider.
#[utoipa::path(delete, path = "/api/admin/data-providers/{id}", tag = "data-providers",
    params(("id" = String, Path, description = "Its id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 404, description = "No such data provider", body = ErrorBody),
        (status = 409, description = "Declared in the configuration file, or a habilitation rests on it", body = ErrorBody),
        (status = 503, description = "The registry cannot be reached", body = ErrorBody),
    ))]
pub async fn remove(State(state): State<AppState>, operator: Operator, Id(id): Id) -> Result<Response, AdminError> {
    let (dp, _) = registered(&state, &id).await?;
    let actor = ActorRef::DataProvider(&dp.id);
    writable(&state, actor).await?;
    let users: Vec<String> = state
        .registry
        .habilitations()
        .await?
        .into_iter()
        .filter(|habilitation| habilitation.dp == dp.id)
        .map(|habilitation| format!("`{}`", habilitation.id))
        .collect();
    if !users.is_empty() {
        return Err(AdminError::conflict(
            format!("the habilitations {} rest on `{}`: remove them first", users.join(", "), dp.id),
            format!("les habilitations {} reposent sur `{}` : retirez-les d'abord", users.join(", "), dp.id),
        ));
    }
    state.registry_writer.remove(actor).await?;
    traced(&state, &operator, actor, "removed").await?;
    Ok(removed())
}

/// Makes a new checktoken secret for a data provider.
#[utoipa::path(post, path = "/api/admin/data-providers/{id}/client-secret", tag = "data-providers",
    params(("id" = String, Path, description = "Its id")),
    responses(
        (status = 200, description = "The new secret, shown once", body = IssuedSecret),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 404, description = "No such data provider", body = ErrorBody),
        (status = 409, description = "Declared in the configuration file", body = ErrorBody),
        (status = 503, description = "The registry cannot be reached", body = ErrorBody),
    ))]
pub async fn renew_secret(
    State(state): State<AppState>,
    operator: Operator,
    Id(id): Id,
) -> Result<Response, AdminError> {
    let (mut dp, _) = registered(&state, &id).await?;
    writable(&state, ActorRef::DataProvider(&dp.id)).await?;
    let secret = relais_oidc::random::random_token();
    dp.secret = SecretDigest::of(dp.id.as_str(), &Secret::new(secret.clone()));
    let at = state.clock.now().0;
    state.registry_writer.put_data_provider(Put { actor: &dp, source: Source::Registered, at }).await?;
    traced(&state, &operator, ActorRef::DataProvider(&dp.id), "secret_renewed").await?;
    Ok(answer(
        StatusCode::OK,
        IssuedSecret { client_id: dp.id.to_string(), client_secret: secret, client_secret_expires_at: 0 },
    ))
}
