//! The partner portal's habilitation requests: made from a template, written and sent by the
//! service's agents, decided by the instructors (`/partenaires/instruction`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use relais_domain::portal::request::{Contact, LegalBasisKind, RequestEvent, RequestForm, Template};
use relais_domain::portal::FieldError;
use relais_domain::{DataTransfer, DpId, EidasLevel};

use super::portal::{agent_or_sign_in, form_session, session_id};
use super::{field, form_pairs};
use crate::engine::portal::{self, admin_tokens, requests, PortalSession, PORTAL_PATH};
use crate::error::{no_store, see_other, ErrorPage, PageError};
use crate::i18n::Locale;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/partenaires/services/{id}/demandes", post(start))
        .route("/partenaires/demandes/{id}", get(page).post(write))
        .route("/partenaires/demandes/{id}/decision", post(decide))
        .route("/partenaires/instruction", get(queue))
        .route("/partenaires/instruction/jeton", post(make_admin_token))
}

/// The key of an admin token in the session's `shown_once`.
const ADMIN_TOKEN_SHOWN: &str = "admin-token";

fn request_path(id: &str) -> String {
    format!("{PORTAL_PATH}/demandes/{id}")
}

async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(service_id): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let pairs = form_pairs(&body);
    let (session, _) = form_session(&state, &headers, &pairs).await?;
    let template = Template::of(field(&pairs, "modele"));
    let id = requests::start(&state, &session, &service_id, template).await?;
    Ok(see_other(&request_path(&id)))
}

async fn render(
    state: &AppState,
    locale: &Locale,
    session: &PortalSession,
    id: &str,
    errors: &[FieldError],
) -> Result<Response, PageError> {
    let (request, service, instructor) = requests::request(state, session, id).await?;
    let providers = requests::providers(state).await?;
    let role = crate::engine::portal::services::role(session, &service);
    let page = crate::pages::RequestPage {
        request: &request,
        service: &service,
        providers: &providers,
        instructor,
        role,
        errors,
    };
    let page = state.pages.portal_request(locale, session, &page);
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    Ok((status, no_store(), page).into_response())
}

async fn page(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let session = agent_or_sign_in!(&state, &headers);
    render(&state, &locale, &session, &id, &[]).await
}

fn contact(pairs: &[(String, String)], prefix: &str) -> Contact {
    Contact {
        name: field(pairs, &format!("{prefix}_name")).trim().to_owned(),
        email: field(pairs, &format!("{prefix}_email")).trim().to_owned(),
    }
}

/// The request's fields as sent; a value that cannot be read becomes one the checks refuse.
fn form(pairs: &[(String, String)]) -> RequestForm {
    let legal_basis_kind = match field(pairs, "legal_basis_kind") {
        "decree" => LegalBasisKind::Decree,
        "order" => LegalBasisKind::Order,
        "deliberation" => LegalBasisKind::Deliberation,
        "other" => LegalBasisKind::Other,
        _ => LegalBasisKind::Law,
    };
    let data = pairs
        .iter()
        .filter(|(key, _)| key == "data")
        .filter_map(|(_, value)| value.split_once(':'))
        .map(|(dp, scope)| DataTransfer { dp: DpId::new(dp), scope: scope.to_owned() })
        .collect();
    RequestForm {
        purpose: field(pairs, "purpose").trim().to_owned(),
        legal_basis_kind,
        legal_basis: field(pairs, "legal_basis").trim().to_owned(),
        legal_basis_url: field(pairs, "legal_basis_url").trim().to_owned(),
        recipients: field(pairs, "recipients").trim().to_owned(),
        retention_months: field(pairs, "retention_months").trim().parse().unwrap_or(0),
        retention_justification: field(pairs, "retention_justification").trim().to_owned(),
        data,
        controller: contact(pairs, "controller"),
        dpo: contact(pairs, "dpo"),
        technical_contact: contact(pairs, "technical"),
        eidas_level: EidasLevel::from_acr(field(pairs, "eidas_level")).unwrap_or(EidasLevel::Low),
    }
}

async fn write(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let pairs = form_pairs(&body);
    let (session, _) = form_session(&state, &headers, &pairs).await?;
    let (fields, event) = match field(&pairs, "action") {
        "enregistrer" => (Some(form(&pairs)), None),
        "envoyer" => (Some(form(&pairs)), Some(RequestEvent::Submit)),
        "rouvrir" => (None, Some(RequestEvent::Reopen)),
        "abandonner" => (None, Some(RequestEvent::CancelReopening)),
        "archiver" => (None, Some(RequestEvent::Archive)),
        _ => return Err(PageError::Page(ErrorPage::BadRequest)),
    };
    match requests::write(&state, &session, &id, fields, event).await? {
        Ok(()) => Ok(see_other(&request_path(&id))),
        Err(errors) => render(&state, &locale, &session, &id, &errors).await,
    }
}

async fn decide(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let pairs = form_pairs(&body);
    let (session, _) = form_session(&state, &headers, &pairs).await?;
    let event = match field(&pairs, "decision") {
        "valider" => RequestEvent::Approve,
        "refuser" => RequestEvent::Refuse,
        "modifications" => RequestEvent::RequestChanges,
        "revoquer" => RequestEvent::Revoke,
        _ => return Err(PageError::Page(ErrorPage::BadRequest)),
    };
    let comment = Some(field(&pairs, "commentaire").trim().to_owned()).filter(|c| !c.is_empty());
    match requests::decide(&state, &session, &id, event, comment).await? {
        Ok(()) => Ok(see_other(&request_path(&id))),
        Err(error) => render(&state, &locale, &session, &id, &[error]).await,
    }
}

async fn queue(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let mut session = agent_or_sign_in!(&state, &headers);
    let waiting = requests::to_instruct(&state, &session).await?;
    // An admin token just made is shown on this page once, then forgotten.
    let admin_token = match session.shown_once.take() {
        Some((key, token)) if key == ADMIN_TOKEN_SHOWN => {
            if let Some(id) = session_id(&state, &headers) {
                portal::save(&state, &id, &session).await?;
            }
            Some(token)
        }
        other => {
            session.shown_once = other;
            None
        }
    };
    let operator = admin_tokens::is_operator(&state, &session.email);
    let page = crate::pages::InstructionPage { waiting: &waiting, operator, admin_token: admin_token.as_deref() };
    Ok((no_store(), state.pages.portal_instruction(&locale, &session, &page)).into_response())
}

/// An agent with the operator role makes a token of the admin API (shown once on the queue's
/// page); anyone else is refused.
async fn make_admin_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let pairs = form_pairs(&body);
    let (mut session, id) = form_session(&state, &headers, &pairs).await?;
    let token = admin_tokens::make(&state, &session).await?.ok_or(PageError::Page(ErrorPage::RoleRequired))?;
    session.shown_once = Some((ADMIN_TOKEN_SHOWN.to_owned(), token));
    if let Some(id) = &id {
        portal::save(&state, id, &session).await?;
    }
    Ok(see_other(&format!("{PORTAL_PATH}/instruction")))
}
