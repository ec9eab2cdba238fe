//! Step 1: the service provider's authorization request. Answers with a code at once when the
//! browser's session serves (single sign-on, handed to step 4), else parks the request as a
//! pending authorization and shows the choice page or, with an eligible `idp_hint`, hands over
//! to step 2 at once.

use relais_domain::data::{data_scopes, requested_transfers};
use relais_domain::flow::{PendingAuthorization, Prompt};
use relais_domain::providers::eligible_idps;
use relais_domain::step::StepEvent;
use relais_domain::values::FlowId;
use relais_domain::{PairwiseSub, Profile};
use relais_oidc::authorize::{client_id_of, validate, AuthorizeError, AuthorizeRefusal, RawAuthorizationRequest};
use relais_oidc::id_token::expected_sub;
use relais_oidc::random::random_token;
use relais_oidc::ErrorCode;
use relais_store::Namespace;

use super::support::{session, sp_redirect, Browser, Next, Outcome};
use super::{choose, code, email};
use crate::error::{ErrorPage, PageError};
use crate::state::AppState;

fn refusal_page(refusal: AuthorizeRefusal) -> PageError {
    PageError::Page(match refusal {
        AuthorizeRefusal::MissingClientId | AuthorizeRefusal::UnknownClient => ErrorPage::UnknownService,
        AuthorizeRefusal::MissingRedirectUri | AuthorizeRefusal::UnregisteredRedirectUri => {
            ErrorPage::UnregisteredRedirect
        }
    })
}

/// Step 1. `raw` is the request as sent; `browser` the browser it comes from.
#[tracing::instrument(skip_all, fields(sp))]
pub async fn authorize(
    state: &AppState,
    raw: &RawAuthorizationRequest,
    browser: &Browser,
) -> Result<Outcome, PageError> {
    let sp_id = client_id_of(raw).map_err(|e| match e {
        AuthorizeError::NotRedirectable(refusal) => refusal_page(refusal),
        AuthorizeError::Redirect { .. } => PageError::Page(ErrorPage::BadRequest),
    })?;
    tracing::Span::current().record("sp", sp_id.as_str());
    // A service of the other federation is unknown here: a citizen service cannot sign an
    // agent in, nor the reverse.
    let sp = state.registry.service_provider(&sp_id).await?.filter(|sp| {
        let here = sp.profile == state.federation;
        if !here {
            tracing::warn!(client_id = %sp_id, profile = sp.profile.as_str(), "client of another federation");
        }
        here
    });
    let mut request = match validate(raw, sp.as_ref()) {
        Ok(request) => request,
        Err(AuthorizeError::NotRedirectable(refusal)) => {
            let presented = raw.redirect_uri.as_deref().unwrap_or_default();
            tracing::warn!(client_id = %sp_id, redirect_uri = presented, reason = ?refusal, "authorization request refused");
            state.tracer.emit(StepEvent::authorization_refused(&sp_id, "not_redirectable")).await?;
            return Err(refusal_page(refusal));
        }
        Err(AuthorizeError::Redirect { redirect_uri, state: sp_state, error }) => {
            state.tracer.emit(StepEvent::authorization_refused(&sp_id, error.code.as_str())).await?;
            return Err(sp_redirect::refuse_to(
                state,
                &redirect_uri,
                sp_state.as_deref(),
                error.code,
                error.description,
            ));
        }
    };
    let Some(sp) = sp else { return Err(PageError::Page(ErrorPage::UnknownService)) };
    match expected_sub(&state.keys(), &state.endpoints.issuer, &sp.id, raw.id_token_hint.as_deref()) {
        Ok(expected) => request.expected_sub = expected.map(PairwiseSub::from_token),
        Err(_) => {
            let description = "id_token_hint is not an ID token issued to this client";
            return Err(sp_redirect::refuse(state, &request, ErrorCode::InvalidRequest, description));
        }
    }
    let providers = state.registry.data_providers().await?;
    let scope = raw.scope.as_deref().unwrap_or_default();
    match sp.profile {
        Profile::Citizen => match requested_transfers(scope, &sp.id, &providers) {
            Ok(transfers) => request.transfers = transfers,
            Err(refused) => {
                return Err(sp_redirect::refuse(state, &request, ErrorCode::InvalidScope, refused.to_string()))
            }
        },
        // An agent's data rests on a habilitation of their organisation, checked once they
        // are known (step 4).
        Profile::Agent => request.transfers = data_scopes(scope, &providers),
    }
    state.tracer.emit(StepEvent::authorization_asked(&sp.id, request.required_level)).await?;

    let mut live = session::load(state, browser).await?;
    if let Some(live) = live.as_mut() {
        let registered = state.registry.identity_providers().await?;
        let now = state.clock.now();
        if live.serves(&request, &sp, &registered, now, &state.settings.pairwise_secret)
            && session::idp_still_allowed(state, live).await?
        {
            let session_id = browser.session_id.clone().unwrap_or_default();
            let next = code::complete_sign_in(state, &request, &sp, live, &session_id).await?;
            session::save(state, &session_id, live).await?;
            return Ok(next.into());
        }
    }
    let idps = session::offered_idps(state, live.as_ref()).await?;
    if request.prompt == Prompt::None {
        let description = "no session allows signing in without interaction";
        return Err(sp_redirect::refuse(state, &request, ErrorCode::LoginRequired, description));
    }
    let eligible = eligible_idps(&idps, &sp, request.required_level);
    if eligible.is_empty() {
        let description = "no identity provider reaches the requested level for this client";
        return Err(sp_redirect::refuse(state, &request, ErrorCode::AccessDenied, description));
    }
    let hinted =
        request.idp_hint.as_ref().and_then(|hint| eligible.iter().find(|idp| &idp.id == hint)).copied().cloned();
    let choices = match sp.profile {
        Profile::Citizen => session::idp_choices(state, &eligible, browser.last_idp.as_deref()),
        Profile::Agent => Vec::new(),
    };

    let flow = FlowId::new(random_token());
    let pending = PendingAuthorization { request, browser: browser.binding.clone() };
    state
        .records
        .put(Namespace::PendingAuthorization, flow.as_str(), &pending, state.settings.pending_lifetime)
        .await?;
    if let Some(idp) = hinted {
        return Ok(Next::Redirect(choose::start_upstream(state, flow.as_str(), &pending, &idp).await?).into());
    }
    if sp.profile == Profile::Agent {
        return Ok(email::first_page(state, flow.as_str(), &pending, &sp).await?.into());
    }
    let ui_locales = pending.request.ui_locales.clone();
    Ok(Next::Choice { flow: flow.as_str().to_owned(), service: sp.name, idps: choices, ui_locales, failed: None }
        .into())
}
