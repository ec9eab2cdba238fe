//! Step 2: the person picks an identity provider on the choice page, and the hub sends them
//! there with a request of its own (its own `state`, `nonce` and PKCE): nothing in it names
//! the service provider.

use relais_domain::flow::{PendingAuthorization, UpstreamLogin};
use relais_domain::providers::eligible_idps;
use relais_domain::step::StepEvent;
use relais_domain::values::FlowId;
use relais_domain::{IdentityProvider, IdpId, ServiceProvider};
use relais_store::Namespace;

use super::support::{self, session, Browser, Next};
use crate::error::{ErrorPage, PageError};
use crate::state::AppState;

/// The choice page of a pending authorization (shown again when the person reloads it).
#[tracing::instrument(skip_all)]
pub async fn choice_page(state: &AppState, flow: &str, browser: &Browser) -> Result<Next, PageError> {
    let (pending, sp) = pending_for(state, flow, browser).await?;
    if sp.profile == relais_domain::Profile::Agent {
        // An agent's page is the e-mail one (shown again when they reload it).
        return super::email::first_page(state, flow, &pending, &sp).await;
    }
    let idps = session::offered_idps(state, session::load(state, browser).await?.as_ref()).await?;
    let eligible = eligible_idps(&idps, &sp, pending.request.required_level);
    let choices = session::idp_choices(state, &eligible, browser.last_idp.as_deref());
    let ui_locales = pending.request.ui_locales;
    Ok(Next::Choice { flow: flow.to_owned(), service: sp.name, idps: choices, ui_locales, failed: None })
}

/// The choice page again, after `failed` could not be used: it says so and offers the others.
pub async fn choice_without(
    state: &AppState,
    flow: &str,
    failed: &IdentityProvider,
    browser: &Browser,
) -> Result<Next, PageError> {
    match choice_page(state, flow, browser).await? {
        Next::Choice { flow, service, idps, ui_locales, .. } => {
            let idps = idps.into_iter().filter(|idp| idp.id != failed.id.as_str()).collect();
            Ok(Next::Choice { flow, service, idps, ui_locales, failed: Some(failed.display_name.clone()) })
        }
        other => Ok(other),
    }
}

async fn pending_for(
    state: &AppState,
    flow: &str,
    browser: &Browser,
) -> Result<(PendingAuthorization, ServiceProvider), PageError> {
    let pending: PendingAuthorization =
        session::pending(state, Namespace::PendingAuthorization, flow, browser, |p: &PendingAuthorization| &p.browser)
            .await?;
    let sp = session::service(state, &pending.request.sp).await?;
    Ok((pending, sp))
}

/// Step 2: the person picked `idp_id` on the choice page of `flow`.
#[tracing::instrument(skip_all, fields(idp = %idp_id))]
pub async fn choose(state: &AppState, flow: &str, idp_id: &IdpId, browser: &Browser) -> Result<Next, PageError> {
    let (pending, sp) = pending_for(state, flow, browser).await?;
    let idps = session::offered_idps(state, session::load(state, browser).await?.as_ref()).await?;
    let idp = eligible_idps(&idps, &sp, pending.request.required_level)
        .into_iter()
        .find(|idp| &idp.id == idp_id)
        .cloned()
        .ok_or(PageError::Page(ErrorPage::BadRequest))?;
    match start_upstream(state, flow, &pending, &idp).await {
        Ok(url) => Ok(Next::ToIdp { url, idp: idp.id.to_string() }),
        // The IdP cannot be reached: back to the choice, which says so and offers the others.
        Err(PageError::Page(ErrorPage::IdpUnavailable)) => choice_without(state, flow, &idp, browser).await,
        Err(other) => Err(other),
    }
}

/// Sends the person to `idp` with the hub's own request; the URL to go to. Also the way in
/// from step 1 when the service named an eligible IdP (`idp_hint`).
pub async fn start_upstream(
    state: &AppState,
    flow: &str,
    pending: &PendingAuthorization,
    idp: &IdentityProvider,
) -> Result<String, PageError> {
    let started = std::time::Instant::now();
    let authorization = state.upstream.authorization_url(idp).await.map_err(|error| {
        support::log_upstream_failure(&idp.id, &error, "identity provider unavailable", started);
        state.metrics.idp_answer(&idp.id, false, true, state.clock.now());
        PageError::Page(ErrorPage::IdpUnavailable)
    })?;
    let flow = FlowId::new(flow);
    let login = UpstreamLogin::start(&flow, idp, authorization.nonce, authorization.pkce_verifier, pending);
    state.records.put(Namespace::UpstreamLogin, &authorization.state, &login, state.settings.pending_lifetime).await?;
    state.tracer.emit(StepEvent::idp_chosen(&pending.request.sp, &idp.id)).await?;
    Ok(authorization.url.to_string())
}
