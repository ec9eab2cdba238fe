//! A service's habilitation requests on the portal ([`relais_domain::portal::request`]): made
//! from a template, written, sent by the service's agent, decided by an instructor
//! (`[[portal.instructors]]`). Validating one puts the service's production client in the
//! registry (every identity provider, its data granted at the providers); revoking it takes the
//! client and its grants out, which every node sees within the registry cache's lifetime.
//! Every move is traced with its author.

use relais_domain::ids::ActorRef;
use relais_domain::portal::request::{Actor, HabilitationRequest, RequestEvent, RequestForm, RequestState, Template};
use relais_domain::portal::team::Environment;
use relais_domain::portal::{FieldError, PartnerService};
use relais_domain::registration::{ServiceProviderRegistration, TokenEndpointAuthMethod};
use relais_domain::step::StepEvent;
use relais_domain::{DataProvider, Profile, Secret, SpId};
use relais_oidc::random::random_token;
use relais_store::{DataGrant, Put, Source};

use super::services::{role, service};
use super::{enabled, mail, PortalSession};
use crate::error::{ErrorPage, PageError};
use crate::state::AppState;

/// Every data provider: production requests may ask for any provider's data.
pub async fn providers(state: &AppState) -> Result<Vec<DataProvider>, PageError> {
    Ok(state.registry.data_providers().await?)
}

/// Starts a request for a service of the agent's organisation from `template` (or empty); its id.
pub async fn start(
    state: &AppState,
    session: &PortalSession,
    service_id: &str,
    template: Option<Template>,
) -> Result<String, PageError> {
    let service = service(state, session, service_id).await?;
    let providers = providers(state).await?;
    let form = match template {
        Some(template) => {
            // The template's data from the provider that serves it here, if one does.
            let dp = providers.iter().find(|dp| dp.scope(template.scope()).is_some());
            let mut form = template.form(&dp.map_or_else(|| relais_domain::DpId::new("-"), |dp| dp.id.clone()));
            if dp.is_none() {
                form.data.clear();
            }
            form.eidas_level = service.declaration.eidas_level;
            form
        }
        None => blank(&service),
    };
    let id: String = random_token().chars().filter(char::is_ascii_alphanumeric).take(22).collect();
    let request = HabilitationRequest::draft(id.clone(), service.id.clone(), form);
    save(state, &session.author(), &request, &service, None).await?;
    Ok(id)
}

fn blank(service: &PartnerService) -> RequestForm {
    let mut form = Template::Canteen.form(&relais_domain::DpId::new("-"));
    form.purpose = String::new();
    form.legal_basis = String::new();
    form.legal_basis_url = String::new();
    form.recipients = String::new();
    form.data = service.declaration.data.clone();
    form.eidas_level = service.declaration.eidas_level;
    form
}

/// Keeps `request`; a move is traced, and told by mail to the service's admins and the
/// request's technical contact (a request sent, to its instructors too).
async fn save(
    state: &AppState,
    author: &str,
    request: &HabilitationRequest,
    service: &PartnerService,
    moved: Option<RequestState>,
) -> Result<(), PageError> {
    let now = state.clock.now();
    state.portal.put_request(request, now.0).await?;
    if let Some(moved) = moved {
        let change = format!("request_{}", moved.name());
        let event = StepEvent::registry_change(now, author, ActorRef::Habilitation(&request.id), &change);
        state.tracer.emit(event).await?;
        let instructors: Vec<String> = match (moved, &state.settings.portal) {
            (RequestState::Submitted, Some(portal)) => portal
                .instructors
                .iter()
                .filter(|instructor| instructor.decides(&request.form.data))
                .map(|instructor| instructor.email.clone())
                .collect(),
            _ => Vec::new(),
        };
        state.post(mail::request_moved(&state.endpoints.issuer, request, service, &instructors));
    }
    Ok(())
}

/// Whether the agent of `session` instructs `request`.
pub fn instructs(state: &AppState, session: &PortalSession, request: &HabilitationRequest) -> bool {
    let email = session.email.to_lowercase();
    state.settings.portal.as_ref().is_some_and(|portal| {
        portal.instructors.iter().any(|instructor| instructor.email == email && instructor.decides(&request.form.data))
    })
}

/// A request the agent may see: one of their organisation's services', or one they instruct;
/// with the service and whether they instruct it.
pub async fn request(
    state: &AppState,
    session: &PortalSession,
    id: &str,
) -> Result<(HabilitationRequest, PartnerService, bool), PageError> {
    let not_found = PageError::Page(ErrorPage::NotFound);
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(not_found);
    }
    let request = state.portal.request(id).await?.ok_or(PageError::Page(ErrorPage::NotFound))?;
    let service = state.portal.partner_service(&request.service).await?.ok_or(PageError::Page(ErrorPage::NotFound))?;
    let instructor = instructs(state, session, &request);
    if role(session, &service).is_none() && !instructor {
        return Err(not_found);
    }
    Ok((request, service, instructor))
}

/// The requests the agent instructs that wait for a decision.
pub async fn to_instruct(
    state: &AppState,
    session: &PortalSession,
) -> Result<Vec<(HabilitationRequest, PartnerService)>, PageError> {
    enabled(state)?;
    let mut waiting = Vec::new();
    for request in state.portal.requests_in(&[RequestState::Submitted]).await? {
        if instructs(state, session, &request) {
            if let Some(service) = state.portal.partner_service(&request.service).await? {
                waiting.push((request, service));
            }
        }
    }
    Ok(waiting)
}

/// What the applicant may do: their role on the service's team.
fn applicant(session: &PortalSession, service: &PartnerService) -> Option<Actor> {
    role(session, service).map(Actor::Applicant)
}

/// The applicant's change of the fields (kept even with errors, which are returned), then
/// `event` if one is asked (`Submit`, `Reopen`, `CancelReopening`, `Archive`).
pub async fn write(
    state: &AppState,
    session: &PortalSession,
    id: &str,
    form: Option<RequestForm>,
    event: Option<RequestEvent>,
) -> Result<Result<(), Vec<FieldError>>, PageError> {
    let (mut request, service, _) = request(state, session, id).await?;
    let actor = applicant(session, &service).ok_or(PageError::Page(ErrorPage::NotFound))?;
    let providers = providers(state).await?;
    if let Some(form) = form {
        if !request.editable_by(actor) {
            return Err(PageError::Page(ErrorPage::BadRequest));
        }
        request.form = form;
    }
    let errors = request.form.check(&providers);
    let moved = match event {
        Some(event) => match request.apply(event, actor, &session.author(), None, &errors, state.clock.now()) {
            Ok(state) => Some(state),
            Err(_) if !errors.is_empty() => {
                save(state, &session.author(), &request, &service, None).await?;
                return Ok(Err(errors));
            }
            Err(relais_domain::portal::request::MoveRefusal::NotAllowed) => {
                return Err(PageError::Page(ErrorPage::RoleRequired))
            }
            Err(_) => return Err(PageError::Page(ErrorPage::BadRequest)),
        },
        None => None,
    };
    save(state, &session.author(), &request, &service, moved).await?;
    Ok(if event.is_none() && !errors.is_empty() { Err(errors) } else { Ok(()) })
}

/// An instructor's decision on a request; validating puts the production client live,
/// revoking takes it out.
pub async fn decide(
    state: &AppState,
    session: &PortalSession,
    id: &str,
    event: RequestEvent,
    comment: Option<String>,
) -> Result<Result<(), FieldError>, PageError> {
    let (request, service, instructor) = request(state, session, id).await?;
    if !instructor
        || !matches!(
            event,
            RequestEvent::Approve | RequestEvent::Refuse | RequestEvent::RequestChanges | RequestEvent::Revoke
        )
    {
        return Err(PageError::Page(ErrorPage::NotFound));
    }
    decide_as(state, &session.author(), request, service, event, comment).await.map(|decided| decided.map(drop))
}

/// The decision `event` on `request` (of `service`) by the instructor `author` (an agent, or
/// the operator through the admin API): where it now stands, or the comment it lacks.
pub async fn decide_as(
    state: &AppState,
    author: &str,
    mut request: HabilitationRequest,
    mut service: PartnerService,
    event: RequestEvent,
    comment: Option<String>,
) -> Result<Result<RequestState, FieldError>, PageError> {
    let now = state.clock.now();
    let moved = match request.apply(event, Actor::Instructor, author, comment, &[], now) {
        Ok(moved) => moved,
        Err(relais_domain::portal::request::MoveRefusal::CommentRequired) => {
            return Ok(Err(FieldError { field: "commentaire", key: "comment_required" }));
        }
        Err(_) => return Err(PageError::Page(ErrorPage::BadRequest)),
    };
    match (event, moved) {
        (RequestEvent::Approve, RequestState::Validated) => go_live(state, author, &request, &mut service).await?,
        (RequestEvent::Revoke, RequestState::Revoked) => withdraw(state, author, &mut service).await?,
        _ => {}
    }
    save(state, author, &request, &service, Some(moved)).await?;
    Ok(Ok(moved))
}

/// The production client of `service` as `request` validated it: every identity provider,
/// its data granted. Its secret is made by the applicant on the service's page.
async fn go_live(
    state: &AppState,
    author: &str,
    request: &HabilitationRequest,
    service: &mut PartnerService,
) -> Result<(), PageError> {
    let Some(live) = &request.live else { return Ok(()) };
    let client_id = service.production_client_id.clone().unwrap_or_else(|| {
        format!("{}{}", relais_domain::portal::PRODUCTION_CLIENT_PREFIX, service.id.to_ascii_lowercase())
    });
    let declaration = &service.declaration;
    let settings = service.settings(Environment::Production);
    let registration = ServiceProviderRegistration {
        client_id: client_id.clone(),
        client_name: declaration.name.clone(),
        token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
        client_secret: Some(Secret::new(random_token())),
        jwks: None,
        redirect_uris: settings.redirect_uris,
        post_logout_redirect_uris: settings.post_logout_redirect_uris,
        scopes: std::iter::once("openid".to_owned()).chain(declaration.claims.iter().cloned()).collect(),
        id_token_signed_response_alg: relais_domain::providers::IdTokenAlgorithm::ES256,
        sector_identifier: None,
        allowed_idps: None,
        denied_idps: None,
        minimum_eidas_level: Some(live.form.eidas_level),
        profile: Profile::Citizen,
        public_agents_only: false,
    };
    let known: Vec<_> = state.registry.identity_providers().await?.into_iter().map(|idp| idp.id).collect();
    let mut sp = registration.register(&known).map_err(|_| PageError::Page(ErrorPage::BadRequest))?;
    // A client validated again keeps its secret.
    if let Some(current) = state.registry.service_provider(&sp.id).await? {
        sp.authentication = current.authentication;
    }
    let now = state.clock.now();
    state.registry_writer.put_service_provider(Put { actor: &sp, source: Source::Registered, at: now.0 }).await?;
    let mut granted = std::collections::BTreeMap::<relais_domain::DpId, Vec<String>>::new();
    for transfer in &live.form.data {
        granted.entry(transfer.dp.clone()).or_default().push(transfer.scope.clone());
    }
    for dp in providers(state).await? {
        let scopes = granted.remove(&dp.id).unwrap_or_default();
        state
            .registry_writer
            .put_data_grant(&DataGrant { sp: sp.id.clone(), dp: dp.id.clone(), scopes }, now.0)
            .await?;
    }
    let event = StepEvent::registry_change(now, author, ActorRef::ServiceProvider(&sp.id), "added");
    state.tracer.emit(event).await?;
    service.production_client_id = Some(client_id);
    state.portal.put_partner_service(service, now.0).await?;
    Ok(())
}

/// Takes the production client of `service` out of the registry, with its grants.
async fn withdraw(state: &AppState, author: &str, service: &mut PartnerService) -> Result<(), PageError> {
    let Some(client_id) = &service.production_client_id else { return Ok(()) };
    let id = SpId::new(client_id);
    state.registry_writer.remove(ActorRef::ServiceProvider(&id)).await?;
    let now = state.clock.now();
    let event = StepEvent::registry_change(now, author, ActorRef::ServiceProvider(&id), "removed");
    state.tracer.emit(event).await?;
    Ok(())
}
