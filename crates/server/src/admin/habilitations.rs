//! `/api/admin/habilitations`: organisations allowed to receive a data provider's scopes, for
//! a procedure, under a legal basis, until a date.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use relais_domain::agent::Habilitation;
use relais_domain::civil_time::{end_of_paris_day, ParisTime};
use relais_domain::ids::ActorRef;
use relais_domain::registration::HabilitationRegistration;
use relais_domain::UnixTime;
use relais_store::{Put, Source};

use super::bodies::{self, HabilitationBody, HabilitationView};
use super::{
    answer, put_outcome, removed, source_of, traced, with_sources, writable, AdminError, ErrorBody, Id, Operator,
};
use crate::state::AppState;

fn view(habilitation: &Habilitation, source: Source) -> HabilitationView {
    // The last day it is valid: the Paris day of its last second.
    let last = ParisTime::of(UnixTime(habilitation.expires_at.0.saturating_sub(1)));
    HabilitationView {
        id: habilitation.id.clone(),
        organisation: habilitation.organisation.clone(),
        procedure: habilitation.procedure.clone(),
        legal_basis: habilitation.legal_basis.reference.clone(),
        legal_basis_url: habilitation.legal_basis.url.clone(),
        data_provider: habilitation.dp.to_string(),
        scopes: habilitation.scopes.clone(),
        valid_until: format!("{:04}-{:02}-{:02}", last.year, last.month, last.day),
        citizen_services: habilitation.citizen_services.iter().map(ToString::to_string).collect(),
        expires_at: habilitation.expires_at.0,
        source: source.into(),
    }
}

/// Every habilitation, live or not.
#[utoipa::path(get, path = "/api/admin/habilitations", tag = "habilitations",
    responses(
        (status = 200, description = "Every habilitation", body = Vec<HabilitationView>),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 503, description = "The registry cannot be reached", body = ErrorBody),
    ))]
pub async fn list(State(state): State<AppState>, _operator: Operator) -> Result<Response, AdminError> {
    let actor: fn(&Habilitation) -> ActorRef<'_> = |habilitation| ActorRef::Habilitation(&habilitation.id);
    let views = with_sources(&state, state.registry.habilitations().await?, actor, view).await?;
    Ok(answer(StatusCode::OK, views))
}

async fn registered(state: &AppState, id: &str) -> Result<(Habilitation, Source), AdminError> {
    let source = source_of(state, ActorRef::Habilitation(id)).await?;
    let missing = || AdminError::not_found(format!("no habilitation `{id}`"), format!("aucune habilitation `{id}`"));
    let habilitation = state.registry.habilitations().await?.into_iter().find(|h| h.id == id).ok_or_else(missing)?;
    Ok((habilitation, source))
}

/// One habilitation.
#[utoipa::path(get, path = "/api/admin/habilitations/{id}", tag = "habilitations",
    params(("id" = String, Path, description = "Its id")),
    responses(
        (status = 200, description = "The habilitation", body = HabilitationView),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 404, description = "No such habilitation", body = ErrorBody),
        (status = 503, description = "The registry cannot be reached", body = ErrorBody),
    ))]
pub async fn one(State(state): State<AppState>, _operator: Operator, Id(id): Id) -> Result<Response, AdminError> {
    let (habilitation, source) = registered(&state, &id).await?;
    Ok(answer(StatusCode::OK, view(&habilitation, source)))
}

/// Registers or replaces a habilitation (it takes effect at the agents' next checktoken).
#[utoipa::path(put, path = "/api/admin/habilitations/{id}", tag = "habilitations",
    params(("id" = String, Path, description = "Its id (letters, digits, `-`, `_`)")),
    request_body = HabilitationBody,
    responses(
        (status = 201, description = "Registered", body = HabilitationView),
        (status = 200, description = "Replaced", body = HabilitationView),
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
    let body: HabilitationBody = bodies::parse(&body)?;
    let expires_at = end_of_paris_day(&body.valid_until).ok_or_else(|| {
        AdminError::invalid("valid_until", "must be a date, YYYY-MM-DD", "doit être une date, AAAA-MM-JJ")
    })?;
    let registration = HabilitationRegistration {
        id,
        organisation: body.organisation,
        procedure: body.procedure,
        legal_basis: body.legal_basis,
        legal_basis_url: body.legal_basis_url,
        data_provider: body.data_provider,
        scopes: body.scopes,
        expires_at,
        citizen_services: body.citizen_services,
    };
    let providers = state.registry.data_providers().await?;
    let services = state.registry.service_providers().await?;
    let habilitation = registration.register(&providers, &services)?;
    let before = writable(&state, ActorRef::Habilitation(&habilitation.id)).await?;
    let at = state.clock.now().0;
    state.registry_writer.put_habilitation(Put { actor: &habilitation, source: Source::Registered, at }).await?;
    let (change, status) = put_outcome(before);
    traced(&state, &operator, ActorRef::Habilitation(&habilitation.id), change).await?;
    Ok(answer(status, view(&habilitation, Source::Registered)))
}

/// Removes a habilitation: the accesses it covered stop at the agents' next checktoken.
#[utoipa::path(delete, path = "/api/admin/habilitations/{id}", tag = "habilitations",
    params(("id" = String, Path, description = "Its id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 404, description = "No such habilitation", body = ErrorBody),
        (status = 409, description = "Declared in the configuration file", body = ErrorBody),
        (status = 503, description = "The registry cannot be reached", body = ErrorBody),
    ))]
pub async fn remove(State(state): State<AppState>, operator: Operator, Id(id): Id) -> Result<Response, AdminError> {
    let (habilitation, _) = registered(&state, &id).await?;
    let actor = ActorRef::Habilitation(&habilitation.id);
    writable(&state, actor).await?;
    state.registry_writer.remove(actor).await?;
    traced(&state, &operator, actor, "removed").await?;
    Ok(removed())
}
