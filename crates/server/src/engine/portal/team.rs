//! A service's team and its clients' configuration versions on the portal
//! ([`relais_domain::portal::team`]): an admin invites colleagues by e-mail (the invitee gets
//! a message and signs in as an agent); a member writes a draft of a client's addresses, a
//! tech or an admin publishes it, which changes the client in the registry at once (every
//! node within the registry cache's lifetime), or restores an archived version. Every change
//! is traced with its author.

use relais_domain::ids::ActorRef;
use relais_domain::portal::request::ServiceRole;
use relais_domain::portal::team::{ClientSettings, Environment};
use relais_domain::portal::{FieldError, PartnerService};
use relais_domain::step::StepEvent;
use relais_domain::SpId;
use relais_store::{Put, Source};

use super::services::member_service;
use super::{mail, PortalSession};
use crate::error::{ErrorPage, PageError};
use crate::state::AppState;

async fn traced(state: &AppState, session: &PortalSession, sp: &SpId, change: &str) -> Result<(), PageError> {
    let event = StepEvent::registry_change(state.clock.now(), &session.author(), ActorRef::ServiceProvider(sp), change);
    state.tracer.emit(event).await?;
    Ok(())
}

/// Invites `email` with the role named `role` (or changes a member's role), by an admin of the
/// service; the invitee gets a message.
pub async fn invite(
    state: &AppState,
    session: &PortalSession,
    id: &str,
    email: &str,
    role: &str,
) -> Result<Result<(), FieldError>, PageError> {
    let (mut service, by) = member_service(state, session, id).await?;
    let role = ServiceRole::of(role);
    let now = state.clock.now();
    if let Err(refused) = service.invite(by, email, role, &session.author(), now) {
        return Ok(Err(refused));
    }
    state.portal.put_partner_service(&service, now.0).await?;
    let change = format!("member_{}", role.map_or("", ServiceRole::id));
    traced(state, session, &SpId::new(&service.sandbox_client_id), &change).await?;
    let invited = email.trim().to_lowercase();
    if let Some(member) = service.members.iter().find(|member| member.email == invited) {
        state.post(vec![mail::invitation(&state.endpoints.issuer, &service, session, member)]);
    }
    Ok(Ok(()))
}

/// Takes `email` off the team, by an admin of the service.
pub async fn remove(
    state: &AppState,
    session: &PortalSession,
    id: &str,
    email: &str,
) -> Result<Result<(), FieldError>, PageError> {
    let (mut service, by) = member_service(state, session, id).await?;
    if let Err(refused) = service.remove_member(by, email) {
        return Ok(Err(refused));
    }
    state.portal.put_partner_service(&service, state.clock.now().0).await?;
    traced(state, session, &SpId::new(&service.sandbox_client_id), "member_removed").await?;
    Ok(Ok(()))
}

/// The client of `environment`, if the service has one.
fn client_of(service: &PartnerService, environment: Environment) -> Option<SpId> {
    match environment {
        Environment::Sandbox => Some(SpId::new(&service.sandbox_client_id)),
        Environment::Production => service.production_client_id.as_deref().map(SpId::new),
    }
}

/// Writes the draft of `environment`'s addresses, by any member; every wrong field, or nothing
/// is kept.
pub async fn write_draft(
    state: &AppState,
    session: &PortalSession,
    id: &str,
    environment: Environment,
    (initiate_login_uri, redirect_uris, post_logout_redirect_uris): (&str, &str, &str),
) -> Result<Result<(), Vec<FieldError>>, PageError> {
    let (mut service, _) = member_service(state, session, id).await?;
    if client_of(&service, environment).is_none() {
        return Err(PageError::Page(ErrorPage::NotFound));
    }
    let settings = match ClientSettings::check(initiate_login_uri, redirect_uris, post_logout_redirect_uris) {
        Ok(settings) => settings,
        Err(errors) => return Ok(Err(errors)),
    };
    let now = state.clock.now();
    service.write_draft(environment, settings, &session.author(), now);
    state.portal.put_partner_service(&service, now.0).await?;
    Ok(Ok(()))
}

/// Publishes version `number` of `environment` (its draft, or an archived version restored),
/// by a tech or an admin: the client's addresses change at once.
pub async fn publish(
    state: &AppState,
    session: &PortalSession,
    id: &str,
    environment: Environment,
    number: u32,
) -> Result<Result<(), FieldError>, PageError> {
    let (mut service, by) = member_service(state, session, id).await?;
    let client_id = client_of(&service, environment).ok_or(PageError::Page(ErrorPage::NotFound))?;
    let mut sp = state.registry.service_provider(&client_id).await?.ok_or(PageError::Page(ErrorPage::NotFound))?;
    let now = state.clock.now();
    let settings = match service.publish(by, environment, number, &session.author(), now) {
        Ok(settings) => settings,
        Err(refused) => return Ok(Err(refused)),
    };
    sp.redirect_uris = settings.redirect_uris;
    sp.post_logout_redirect_uris = settings.post_logout_redirect_uris;
    state.registry_writer.put_service_provider(Put { actor: &sp, source: Source::Registered, at: now.0 }).await?;
    state.portal.put_partner_service(&service, now.0).await?;
    traced(state, session, &sp.id, &format!("configuration_published_{number}")).await?;
    Ok(Ok(()))
}
