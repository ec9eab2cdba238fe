//! Step 4: the end of a sign-in, reached from step 1 (single sign-on), step 3 (a fresh sign-in)
//! and step 3b (the consent answered). Without data asked, a single-use code for the service at
//! once; with data asked, the consent page first.

use std::collections::BTreeMap;

use relais_domain::agent::reference::PERSON_REFERENCE;
use relais_domain::agent::{covering, AgentIdentity};
use relais_domain::flow::{AuthenticatedSession, AuthorizationRequest, CodeGrant, PendingConsent, Prompt};
use relais_domain::step::{StepEvent, Subject};
use relais_domain::{DataTransfer, PairwiseSub, ServiceProvider};
use relais_oidc::random::{digest, digest_of, random_token};
use relais_oidc::ErrorCode;
use relais_store::Namespace;

use super::support::{session, sp_redirect, Next};
use crate::error::{ErrorPage, PageError};
use crate::state::AppState;

/// Where consent pages live.
pub const CONSENT_PATH: &str = "/consentement";

/// Ends a sign-in: a code at once when no data is asked, else the consent page (refused with
/// `consent_required` under `prompt=none`, which allows no page, Core 3.1.2.6).
pub async fn complete_sign_in(
    state: &AppState,
    request: &AuthorizationRequest,
    sp: &ServiceProvider,
    session: &mut AuthenticatedSession,
    session_id: &str,
) -> Result<Next, PageError> {
    if let Some(agent) = session.subject().agent() {
        return agent_sign_in(state, request, sp, session, agent.clone()).await;
    }
    if request.transfers.is_empty() {
        return Ok(Next::Redirect(issue_code(state, request, sp, session, &[]).await?));
    }
    if request.prompt == Prompt::None {
        let description = "the data asked for needs the person's consent on a page";
        return Err(sp_redirect::refuse(state, request, ErrorCode::ConsentRequired, description));
    }
    let flow = random_token();
    let pending = PendingConsent::ask(request, digest_of(session_id), session);
    state.records.put(Namespace::Consent, &flow, &pending, state.settings.pending_lifetime).await?;
    // A page of its own, so that reloading it or coming back to it works.
    Ok(Next::Redirect(format!("{CONSENT_PATH}/{flow}")))
}

/// An agent's sign-in ends without a consent page: their organisation must be public when
/// the service says so, and each data scope asked must be covered by a live habilitation of
/// their organisation (else `invalid_scope`, saying which and why).
async fn agent_sign_in(
    state: &AppState,
    request: &AuthorizationRequest,
    sp: &ServiceProvider,
    session: &mut AuthenticatedSession,
    agent: AgentIdentity,
) -> Result<Next, PageError> {
    let public = agent.organisation.as_ref().is_some_and(|o| o.kind.is_public());
    if sp.public_agents_only && !public {
        let event = StepEvent::identity_refused(Some(&sp.id), &session.idp, "agent_not_public");
        state.tracer.emit(event).await?;
        return Err(sp_redirect::page_with_return(state, request, ErrorPage::AgentNotPublic));
    }
    let mut habilitations = BTreeMap::new();
    if !request.transfers.is_empty() {
        let registered = state.registry.habilitations().await?;
        let now = state.clock.now();
        for transfer in &request.transfers {
            match covering(&registered, &agent.siret, &transfer.dp, &transfer.scope, now) {
                Some(habilitation) => habilitations.insert(transfer.scope.clone(), habilitation.id.clone()),
                None => {
                    let description = format!(
                        "scope `{}` of the data provider `{}` is not covered by a live habilitation of the \
                         agent's organisation (SIRET {}, SIREN {}): the organisation must hold one for this \
                         procedure before its agents ask",
                        transfer.scope,
                        transfer.dp,
                        agent.siret.as_str(),
                        agent.siret.siren()
                    );
                    return Err(sp_redirect::refuse(state, request, ErrorCode::InvalidScope, description));
                }
            };
        }
    }
    let granted = request.transfers.clone();
    Ok(Next::Redirect(issue_code_with(state, request, sp, session, &granted, habilitations).await?))
}

/// Step 4 itself: a single-use code for the service, carrying what it may learn (the pairwise
/// `sub` for its sector, the claims of its scopes and the consented transfers); the URL taking
/// it there.
pub async fn issue_code(
    state: &AppState,
    request: &AuthorizationRequest,
    sp: &ServiceProvider,
    session: &mut AuthenticatedSession,
    granted: &[DataTransfer],
) -> Result<String, PageError> {
    issue_code_with(state, request, sp, session, granted, BTreeMap::new()).await
}

async fn issue_code_with(
    state: &AppState,
    request: &AuthorizationRequest,
    sp: &ServiceProvider,
    session: &mut AuthenticatedSession,
    granted: &[DataTransfer],
    habilitations: BTreeMap<String, String>,
) -> Result<String, PageError> {
    let sub = PairwiseSub::derive(&state.settings.pairwise_secret, &sp.subject_sector(), session.subject());
    let person = session::person_of(state, session);
    let mut grant = CodeGrant::issue(request, session, sub.clone(), &person, granted).for_agent(session, habilitations);
    if let Some(reference) = super::exchange::person_reference(state, request, session)? {
        grant.grant.claims.insert(PERSON_REFERENCE.to_owned(), reference);
    }
    let who = Subject { person: &person, sub: &sub, sp: &sp.id, idp: &session.idp };
    let event = StepEvent::code_issued(state.clock.now(), &who, session.acr, grant.traced_scopes());
    state.tracer.emit(event.with_detail(format!("transfers={}", granted.len()))).await?;
    let code = random_token();
    state.records.put(Namespace::Code, &digest(&code), &grant, state.settings.code_lifetime).await?;
    session.record_service(&sp.id);
    sp_redirect::with_code(state, request, &code)
}
