//! Step 3: the identity provider sends the person back to the hub's callback for that IdP. The
//! hub checks the answer belongs to its own pending request (state, browser, callback, issuer),
//! has the upstream client verify it into an identity, opens the hub session and hands over to
//! step 4 (a code, or the consent first).

use std::time::Instant;

use relais_domain::agent::{may_assert, OrganisationFacts, Siret};
use relais_domain::flow::{AuthenticatedSession, PendingAuthorization, UpstreamLogin};
use relais_domain::step::StepEvent;
use relais_domain::values::{Sid, UpstreamIdToken};
use relais_domain::IdpId;
use relais_oidc::random::{digest, random_token};
use relais_oidc::ErrorCode;
use relais_store::Namespace;

use super::support::{self, session, sp_redirect, Browser, Outcome};
use super::{choose, code};
use crate::error::{ErrorPage, PageError};
use crate::state::AppState;

/// The IdP's answer on the hub's callback.
#[derive(Default, serde::Deserialize)]
pub struct IdpCallback {
    /// The code.
    pub code: Option<String>,
    /// The hub's state.
    pub state: Option<String>,
    /// The IdP's issuer (RFC 9207).
    pub iss: Option<String>,
    /// An error instead of a code.
    pub error: Option<String>,
}

/// Step 3: `callback` arrived on the callback of `callback_idp`.
#[tracing::instrument(skip_all, fields(idp))]
pub async fn idp_callback(
    state: &AppState,
    callback_idp: &IdpId,
    callback: &IdpCallback,
    browser: &Browser,
) -> Result<Outcome, PageError> {
    let upstream_state = callback.state.as_deref().ok_or(PageError::Page(ErrorPage::BadRequest))?;
    let login: UpstreamLogin = state
        .records
        .take(Namespace::UpstreamLogin, upstream_state)
        .await?
        .filter(|login: &UpstreamLogin| browser.owns(&login.browser))
        .ok_or(PageError::Page(ErrorPage::SessionExpired))?;
    tracing::Span::current().record("idp", login.idp.as_str());
    if &login.idp != callback_idp {
        state.tracer.emit(StepEvent::identity_refused(None, &login.idp, "mix_up_callback")).await?;
        return Err(PageError::Page(ErrorPage::IdentityRejected));
    }
    let pending: PendingAuthorization = state
        .records
        .take(Namespace::PendingAuthorization, login.flow.as_str())
        .await?
        .ok_or(PageError::Page(ErrorPage::SessionExpired))?;
    let request = pending.request;
    let idp =
        state.registry.identity_provider(&login.idp).await?.ok_or(PageError::Page(ErrorPage::IdentityRejected))?;
    // RFC 9207: the `iss` of the answer names the IdP asked; an IdP that advertises it must
    // send it (an answer without it may be another IdP's, replayed here).
    let iss_expected = match &callback.iss {
        Some(_) => true,
        None => state.upstream.sends_iss(&idp).await.unwrap_or(false),
    };
    let same_issuer = |iss: &str| iss.trim_end_matches('/') == idp.issuer.as_str().trim_end_matches('/');
    if iss_expected && !callback.iss.as_deref().is_some_and(same_issuer) {
        let outcome = if callback.iss.is_some() { "mix_up_issuer" } else { "iss_missing" };
        state.tracer.emit(StepEvent::identity_refused(Some(&request.sp), &idp.id, outcome)).await?;
        return Err(sp_redirect::page_with_return(state, &request, ErrorPage::IdentityRejected));
    }
    if let Some(error) = &callback.error {
        let event = StepEvent::identity_refused(Some(&request.sp), &idp.id, "idp_error").with_detail(error.clone());
        state.tracer.emit(event).await?;
        let description = "the person did not complete the sign-in";
        return Err(sp_redirect::refuse(state, &request, ErrorCode::AccessDenied, description));
    }
    let code = callback.code.as_deref().ok_or(PageError::Page(ErrorPage::BadRequest))?;
    let started = Instant::now();
    let completed = state.upstream.complete(&idp, code, &login).await;
    let (outcome, unreachable) = match &completed {
        Ok(_) => ("ok", false),
        Err(error) => (error.kind(), error.is_unavailable()),
    };
    let now = state.clock.now();
    state.metrics.upstream_sign_in(&idp.id, outcome, started.elapsed().as_secs_f64(), unreachable, now);
    let answer = match completed {
        Ok(answer) => answer,
        Err(error) => {
            support::log_upstream_failure(&idp.id, &error, "identity provider sign-in failed", started);
            state.tracer.emit(StepEvent::identity_refused(Some(&request.sp), &idp.id, error.kind())).await?;
            if error.is_unavailable() {
                // The IdP could not be reached (down, timing out): the person did nothing wrong.
                // Back to the choice, which says which account failed and offers the others.
                let pending = PendingAuthorization { request, browser: login.browser.clone() };
                let lifetime = state.settings.pending_lifetime;
                state.records.put(Namespace::PendingAuthorization, login.flow.as_str(), &pending, lifetime).await?;
                return Ok(choose::choice_without(state, login.flow.as_str(), &idp, browser).await?.into());
            }
            return Err(sp_redirect::page_with_return(state, &request, ErrorPage::IdentityRejected));
        }
    };
    // The IdP's profile makes an identity of the verified claims: complete, or refused.
    let mut identity = match idp.profile.identity(&idp.id, &answer.claims) {
        Ok(identity) => identity,
        Err(error) => {
            tracing::info!(idp = %idp.id, outcome = error.kind(), detail = %error, "identity refused");
            state.tracer.emit(StepEvent::identity_refused(Some(&request.sp), &idp.id, error.kind())).await?;
            return Err(sp_redirect::page_with_return(state, &request, ErrorPage::IdentityIncomplete));
        }
    };
    if let Some(agent) = identity.agent_mut() {
        // An IdP signs in the agents of its own domains only (the default IdP, any).
        if !may_assert(&idp.agent_route(), &agent.email_domain()) {
            tracing::warn!(idp = %idp.id, domain = agent.email_domain().as_str(), "agent e-mail of a domain the IdP does not serve");
            let event = StepEvent::identity_refused(Some(&request.sp), &idp.id, "email_domain_not_of_idp");
            state.tracer.emit(event).await?;
            return Err(sp_redirect::page_with_return(state, &request, ErrorPage::AgentDomainRefused));
        }
        agent.organisation = organisation_of(state, &agent.siret).await;
    }
    let mut session = AuthenticatedSession::open(
        identity,
        &idp.id,
        answer.acr,
        state.clock.now(),
        UpstreamIdToken::new(answer.id_token),
        &login,
        Sid::new(random_token()),
    );
    let person = session::person_of(state, &session);
    if state.preferences.preferences(person.as_str()).await?.blocks(&idp.id) {
        let event = StepEvent::identity_refused(Some(&request.sp), &idp.id, "idp_blocked_by_person");
        state.tracer.emit(event).await?;
        return Err(sp_redirect::page_with_return(state, &request, ErrorPage::IdpBlocked));
    }
    state.tracer.emit(StepEvent::identity_received(&request.sp, &idp.id, session.acr)).await?;
    let sp = session::service(state, &request.sp).await?;
    if let Some(old) = &browser.session_id {
        state.records.delete(Namespace::Session, &digest(old)).await?;
    }
    let session_id = random_token();
    let next = code::complete_sign_in(state, &request, &sp, &mut session, &session_id).await?;
    session::save(state, &session_id, &session).await?;
    state.metrics.session_opened(session.auth_time);
    Ok(Outcome { next, new_session: Some(session_id) })
}

/// What the organisation registry says of `siret` (`None` when it is not configured, does not
/// know the establishment, or cannot be reached: the services that need it refuse then).
async fn organisation_of(state: &AppState, siret: &Siret) -> Option<OrganisationFacts> {
    let registry = state.organisations.as_ref()?;
    match registry.lookup(siret).await {
        Ok(Some(found)) => Some(OrganisationFacts { label: found.name, kind: found.kind }),
        Ok(None) => {
            tracing::info!(siret = siret.as_str(), "establishment unknown to the organisation registry");
            None
        }
        Err(error) => {
            tracing::warn!(%error, "organisation registry unavailable: the organisation stays unknown");
            None
        }
    }
}
