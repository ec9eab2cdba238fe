//! `/api/admin/habilitation-requests`: the partner portal's habilitation requests (DataPass's),
//! read by the operator, and decided by the operator as the instructor of the identity part
//! (the same moves as `/partenaires/instruction`: validating puts the production client live,
//! revoking takes it out; the applicant is told by mail). The author in the traces and the
//! request's history is `operator:<name>`.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use relais_domain::portal::request::{HabilitationRequest, RequestEvent, RequestState};
use relais_domain::portal::PartnerService;

use super::{answer, bodies, AdminError, ErrorBody, Id, Operator};
use crate::engine::portal::requests::decide_as;
use crate::error::PageError;
use crate::state::AppState;

/// One move of a request.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct HistoryView {
    /// When, seconds since the epoch.
    pub at: u64,
    /// What (`submit`, `request_changes`, `approve`, `refuse`, `reopen`, `cancel_reopening`, `revoke`, `archive`).
    pub event: String,
    /// Who: `agent:<sub>` or `operator:<name>`.
    pub author: String,
    /// The comment given.
    pub comment: Option<String>,
    /// The state it led to.
    pub state: String,
}

/// A habilitation request, as the instructors read it.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct HabilitationRequestView {
    /// Its id.
    pub id: String,
    /// The portal service it is for.
    pub service: String,
    /// The service's name.
    pub service_name: String,
    /// Its organisation (SIREN) and its name.
    pub organisation: String,
    /// The organisation's name.
    pub organisation_label: String,
    /// Where it stands: `draft`, `submitted`, `changes_requested`, `validated`, `refused`, `revoked`, `archived`.
    pub state: String,
    /// The production client, once validated.
    pub production_client_id: Option<String>,
    /// The validated version live, if any.
    pub live_version: Option<u32>,
    /// The fields, as written or sent (DataPass's blocks).
    #[schema(value_type = Object)]
    pub form: serde_json::Value,
    /// Every move, oldest first.
    pub history: Vec<HistoryView>,
}

/// An instructor's decision.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// `approve`, `refuse`, `request_changes` or `revoke`.
    pub decision: String,
    /// Why: required to refuse, send back or revoke.
    #[serde(default)]
    pub comment: Option<String>,
}

/// Which requests to list.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only those in this state (default: submitted, the instructors' queue).
    pub state: Option<String>,
}

fn view(request: &HabilitationRequest, service: &PartnerService) -> HabilitationRequestView {
    HabilitationRequestView {
        id: request.id.clone(),
        service: service.id.clone(),
        service_name: service.declaration.name.clone(),
        organisation: service.organisation.clone(),
        organisation_label: service.organisation_label.clone(),
        state: request.state.name().to_owned(),
        production_client_id: service.production_client_id.clone(),
        live_version: request.live.as_ref().map(|live| live.version),
        form: serde_json::to_value(&request.form).unwrap_or_default(),
        history: request
            .history
            .iter()
            .map(|entry| HistoryView {
                at: entry.at.0,
                event: entry.event.name().to_owned(),
                author: entry.author.clone(),
                comment: entry.comment.clone(),
                state: entry.state.name().to_owned(),
            })
            .collect(),
    }
}

/// The requests in a state (the submitted ones by default: the queue).
#[utoipa::path(get, path = "/api/admin/habilitation-requests", tag = "habilitation-requests",
    params(ListQuery),
    responses(
        (status = 200, description = "The requests in that state, by id", body = Vec<HabilitationRequestView>),
        (status = 400, description = "An unknown state", body = ErrorBody),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 503, description = "The store cannot be reached", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    _operator: Operator,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, AdminError> {
    let Query(query) = query.map_err(|rejection| {
        let text = rejection.body_text();
        AdminError::invalid("query", text.clone(), format!("paramètres invalides : {text}"))
    })?;
    let wanted = match query.state.as_deref() {
        None => RequestState::Submitted,
        Some(name) => RequestState::named(name).ok_or_else(|| {
            AdminError::invalid(
                "state",
                "one of draft, submitted, changes_requested, validated, refused, revoked, archived",
                "l'un de draft, submitted, changes_requested, validated, refused, revoked, archived",
            )
        })?,
    };
    let mut views = Vec::new();
    for request in state.portal.requests_in(&[wanted]).await? {
        if let Some(service) = state.portal.partner_service(&request.service).await? {
            views.push(view(&request, &service));
        }
    }
    Ok(answer(StatusCode::OK, views))
}

async fn found(state: &AppState, id: &str) -> Result<(HabilitationRequest, PartnerService), AdminError> {
    super::plausible_id(id)?;
    let missing = || {
        AdminError::not_found(
            format!("no habilitation request `{id}`"),
            format!("aucune demande d'habilitation `{id}`"),
        )
    };
    let request = state.portal.request(id).await?.ok_or_else(missing)?;
    let service = state.portal.partner_service(&request.service).await?.ok_or_else(missing)?;
    Ok((request, service))
}

/// One request, with its history.
#[utoipa::path(get, path = "/api/admin/habilitation-requests/{id}", tag = "habilitation-requests",
    params(("id" = String, Path, description = "Its id")),
    responses(
        (status = 200, description = "The request", body = HabilitationRequestView),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody),
        (status = 503, description = "The store cannot be reached", body = ErrorBody),
    ))]
pub async fn one(State(state): State<AppState>, _operator: Operator, Id(id): Id) -> Result<Response, AdminError> {
    let (request, service) = found(&state, &id).await?;
    Ok(answer(StatusCode::OK, view(&request, &service)))
}

/// Decides a request as the operator's instructor.
#[utoipa::path(post, path = "/api/admin/habilitation-requests/{id}/decision", tag = "habilitation-requests",
    params(("id" = String, Path, description = "Its id")),
    request_body = DecisionBody,
    responses(
        (status = 200, description = "Decided: the request as it now stands", body = HabilitationRequestView),
        (status = 400, description = "An unknown decision, or a comment missing: nothing changed", body = ErrorBody),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody),
        (status = 409, description = "Not a decision this request can take where it stands", body = ErrorBody),
        (status = 503, description = "The store cannot be reached", body = ErrorBody),
    ))]
pub async fn decide(
    State(state): State<AppState>,
    operator: Operator,
    Id(id): Id,
    body: Bytes,
) -> Result<Response, AdminError> {
    let body: DecisionBody = bodies::parse(&body)?;
    let event = match body.decision.as_str() {
        "approve" => RequestEvent::Approve,
        "refuse" => RequestEvent::Refuse,
        "request_changes" => RequestEvent::RequestChanges,
        "revoke" => RequestEvent::Revoke,
        _ => {
            return Err(AdminError::invalid(
                "decision",
                "one of approve, refuse, request_changes, revoke",
                "l'une de approve, refuse, request_changes, revoke",
            ))
        }
    };
    let (request, service) = found(&state, &id).await?;
    let decided = decide_as(&state, &operator.author(), request, service, event, body.comment).await;
    match decided {
        Ok(Ok(_)) => {}
        Ok(Err(_)) => {
            return Err(AdminError::invalid(
                "comment",
                "a comment saying why is required for this decision",
                "cette décision demande un commentaire qui la motive",
            ))
        }
        Err(PageError::Store(error)) => return Err(AdminError::Store(error)),
        Err(_) => {
            return Err(AdminError::conflict(
                "the request cannot be decided so where it stands",
                "la demande ne peut pas recevoir cette décision là où elle en est",
            ))
        }
    }
    let (request, service) = found(&state, &id).await?;
    Ok(answer(StatusCode::OK, view(&request, &service)))
}
