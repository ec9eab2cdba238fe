//! Steps 2 and 3: the person picks an identity provider, the hub signs them in there with a
//! request of its own (nothing in it names the SP), and verifies the answer into a session.

use relais_domain::flow::{AuthenticatedSession, PendingAuthorization, UpstreamLogin};
use relais_domain::providers::eligible_idps;
use relais_domain::{IdentityProvider, IdpId, PersonKey, ServiceProvider};
use relais_oidc::random::{digest, random_token};
use relais_oidc::upstream::UpstreamError;
use relais_oidc::{ErrorCode, OAuthError};
use relais_store::Namespace;

use super::{consent, error_redirect, idp_choices, load_session, offered_idps, save_session, Browser, Next, Outcome};
use crate::error::{AppError, ErrorPage};
use crate::state::AppState;

/// The choice page of a pending authorization (shown again when the person reloads it).
pub async fn choice_page(state: &AppState, flow: &str, browser: &Browser) -> Result<Next, AppError> {
    let (pending, sp) = pending_for(state, flow, browser).await?;
    let idps = offered_idps(state, load_session(state, browser).await?.as_ref()).await?;
    let choices = idp_choices(&eligible_idps(&idps, &sp, pending.request.required_level), browser.last_idp.as_deref());
    let ui_locales = pending.request.ui_locales;
    Ok(Next::Choice { flow: flow.to_owned(), service: sp.name, idps: choices, ui_locales })
}

async fn pending_for(
    state: &AppState,
    flow: &str,
    browser: &Browser,
) -> Result<(PendingAuthorization, ServiceProvider), AppError> {
    let pending: PendingAuthorization = state
        .records
        .get(Namespace::PendingAuthorization, flow)
        .await?
        .filter(|p: &PendingAuthorization| p.browser == browser.binding)
        .ok_or(AppError::Page(ErrorPage::SessionExpired))?;
    let sp =
        state.registry.service_provider(&pending.request.sp).await?.ok_or(AppError::Page(ErrorPage::UnknownService))?;
    Ok((pending, sp))
}

/// Step 2: the person picked an IdP on the choice page.
#[tracing::instrument(skip_all, fields(idp = %idp_id))]
pub async fn choose(state: &AppState, flow: &str, idp_id: &IdpId, browser: &Browser) -> Result<Next, AppError> {
    let (pending, sp) = pending_for(state, flow, browser).await?;
    let idps = offered_idps(state, load_session(state, browser).await?.as_ref()).await?;
    let idp = eligible_idps(&idps, &sp, pending.request.required_level)
        .into_iter()
        .find(|idp| &idp.id == idp_id)
        .cloned()
        .ok_or(AppError::Page(ErrorPage::BadRequest))?;
    Ok(Next::ToIdp { url: start_upstream(state, flow, &pending, &idp).await?, idp: idp.id.to_string() })
}

/// Sends the person to `idp` with the hub's own request: nothing in it names the SP.
pub(super) async fn start_upstream(
    state: &AppState,
    flow: &str,
    pending: &PendingAuthorization,
    idp: &IdentityProvider,
) -> Result<String, AppError> {
    let authorization = state.upstream.authorization_url(idp).await.map_err(|error| {
        tracing::warn!(idp = %idp.id, error = error.kind(), detail = %error, "identity provider unavailable");
        AppError::Page(ErrorPage::IdpUnavailable)
    })?;
    let login = UpstreamLogin {
        flow: flow.to_owned(),
        idp: idp.id.clone(),
        nonce: authorization.nonce,
        pkce_verifier: authorization.pkce_verifier,
        required_level: pending.request.required_level,
        browser: pending.browser.clone(),
    };
    state.records.put(Namespace::UpstreamLogin, &authorization.state, &login, state.settings.pending_lifetime).await?;
    tracing::info!(target: "relais::trace", step = "idp_chosen", sp = %pending.request.sp, idp = %idp.id, outcome = "ok", "identity provider chosen");
    Ok(authorization.url.to_string())
}

/// The IdP's answer on the hub's callback.
#[derive(Debug, Default, serde::Deserialize)]
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

/// Step 3: the IdP sent the person back. The hub verifies everything, opens a session holding
/// the pivot identity, and answers the pending authorization with a code.
#[tracing::instrument(skip_all, fields(idp))]
pub async fn idp_callback(
    state: &AppState,
    callback_idp: &IdpId,
    callback: &IdpCallback,
    browser: &Browser,
) -> Result<Outcome, AppError> {
    let upstream_state = callback.state.as_deref().ok_or(AppError::Page(ErrorPage::BadRequest))?;
    let login: UpstreamLogin = state
        .records
        .take(Namespace::UpstreamLogin, upstream_state)
        .await?
        .filter(|login: &UpstreamLogin| login.browser == browser.binding)
        .ok_or(AppError::Page(ErrorPage::SessionExpired))?;
    tracing::Span::current().record("idp", login.idp.as_str());
    if &login.idp != callback_idp {
        tracing::warn!(idp = %login.idp, callback = %callback_idp, "answer on another IdP's callback (mix-up)");
        return Err(AppError::Page(ErrorPage::IdentityRejected));
    }
    let pending: PendingAuthorization = state
        .records
        .take(Namespace::PendingAuthorization, &login.flow)
        .await?
        .ok_or(AppError::Page(ErrorPage::SessionExpired))?;
    let request = pending.request;
    let idp = state.registry.identity_provider(&login.idp).await?.ok_or(AppError::Page(ErrorPage::IdentityRejected))?;
    if let Some(iss) = &callback.iss {
        if iss.trim_end_matches('/') != idp.issuer.as_str().trim_end_matches('/') {
            tracing::warn!(idp = %idp.id, "authorization response from another issuer (mix-up)");
            return Err(AppError::Page(ErrorPage::IdentityRejected));
        }
    }
    if let Some(error) = &callback.error {
        tracing::info!(target: "relais::trace", step = "identity_received", sp = %request.sp, idp = %idp.id, outcome = "idp_error", idp_error = ?error, "identity provider answered with an error");
        let answer = OAuthError::new(ErrorCode::AccessDenied, "the person did not complete the sign-in");
        return Ok(Next::Redirect(error_redirect(state, &request.redirect_uri, Some(&request.state), &answer)?).into());
    }
    let code = callback.code.as_deref().ok_or(AppError::Page(ErrorPage::BadRequest))?;
    let identity = state.upstream.complete(&idp, code, &login).await.map_err(|error| {
        tracing::warn!(target: "relais::trace", step = "identity_received", sp = %request.sp, idp = %idp.id, outcome = error.kind(), "identity provider answer rejected");
        tracing::debug!(idp = %idp.id, detail = %error, "why the identity provider answer was rejected");
        AppError::Page(match error {
            UpstreamError::Unavailable(_) => ErrorPage::IdpUnavailable,
            UpstreamError::Pivot(_) => ErrorPage::IdentityIncomplete,
            _ => ErrorPage::IdentityRejected,
        })
    })?;
    tracing::info!(target: "relais::trace", step = "identity_received", sp = %request.sp, idp = %idp.id, acr = %identity.acr, outcome = "ok", "identity received");

    let person = PersonKey::derive(&state.settings.pairwise_secret, &identity.pivot);
    if state.preferences.blocked_idps(person.as_str()).await?.contains(&idp.id) {
        tracing::info!(target: "relais::trace", step = "identity_received", idp = %idp.id, outcome = "idp_blocked_by_person", "the person blocked this identity provider");
        return Err(AppError::Page(ErrorPage::IdpBlocked));
    }
    let sp = state.registry.service_provider(&request.sp).await?.ok_or(AppError::Page(ErrorPage::UnknownService))?;
    if let Some(old) = &browser.session_id {
        state.records.delete(Namespace::Session, &digest(old)).await?;
    }
    let mut session = AuthenticatedSession {
        pivot: identity.pivot,
        idp: idp.id.clone(),
        acr: identity.acr,
        auth_time: state.clock.now(),
        idp_id_token: identity.id_token,
        sps: Vec::new(),
        browser: browser.binding.clone(),
    };
    let session_id = random_token();
    let next = consent::complete_sign_in(state, &request, &sp, &mut session, &session_id).await?;
    save_session(state, &session_id, &session).await?;
    Ok(Outcome { next, new_session: Some(session_id) })
}
