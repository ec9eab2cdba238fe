//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): the hub session ends, then the
//! IdP session (the hub's own RP-initiated logout there), then the person returns to the SP's
//! registered post-logout address. The access tokens issued in the session are revoked with
//! it (RFC 7009's intent: a signed-out person's tokens do not outlive the sign-out). The end of the session is traced in the person's history.

use relais_domain::flow::AuthenticatedSession;
use relais_domain::step::StepEvent;
use relais_domain::{PairwiseSub, ServiceProvider, SpId};
use relais_oidc::id_token::{verify_hint, HintClaims};
use relais_oidc::random::{digest, random_token};
use relais_store::Namespace;
use url::Url;

use super::support::{access, session, Browser};
use crate::error::{ErrorPage, PageError};
use crate::state::AppState;

/// The parameters of a logout request.
#[derive(Default, serde::Deserialize, serde::Serialize)]
pub struct LogoutParams {
    /// An ID token the hub issued to the SP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_hint: Option<String>,
    /// Where to send the person afterwards (registered for the SP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_logout_redirect_uri: Option<String>,
    /// The SP's state, returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The SP, when no hint names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Set by the confirmation form.
    #[serde(skip_serializing)]
    pub confirm: Option<String>,
}

/// What the logout does next.
pub enum LogoutOutcome {
    /// Ask the person to confirm (no valid hint for their session).
    Confirm(LogoutParams),
    /// Go there; the session cookie is cleared.
    Redirect(String),
    /// Show the logged-out page; the session cookie is cleared.
    LoggedOut,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct PendingLogout {
    return_to: Option<String>,
}

/// Logout at the hub.
#[tracing::instrument(skip_all)]
pub async fn logout(
    state: &AppState,
    params: LogoutParams,
    browser: &Browser,
    confirmed: bool,
) -> Result<LogoutOutcome, PageError> {
    let hint = params
        .id_token_hint
        .as_deref()
        .and_then(|token| verify_hint(&state.keys(), &state.endpoints.issuer, token).ok());
    let client = match (&hint, params.client_id.as_deref()) {
        (Some(hint), Some(client)) if hint.aud != client => return Err(PageError::Page(ErrorPage::BadRequest)),
        (Some(hint), _) => Some(hint.aud.clone()),
        (None, client) => client.map(str::to_owned),
    };
    let sp = match &client {
        Some(id) => {
            state.registry.service_provider(&SpId::new(id.clone())).await?.filter(|sp| sp.profile == state.federation)
        }
        None => None,
    };
    let return_to = match params.post_logout_redirect_uri.as_deref() {
        None => None,
        Some(uri) => {
            let sp = sp.as_ref().ok_or(PageError::Page(ErrorPage::UnregisteredRedirect))?;
            if !sp.has_post_logout_redirect_uri(uri) {
                return Err(PageError::Page(ErrorPage::UnregisteredRedirect));
            }
            let mut url = Url::parse(uri).map_err(|_| PageError::Page(ErrorPage::UnregisteredRedirect))?;
            if let Some(sp_state) = &params.state {
                url.query_pairs_mut().append_pair("state", sp_state);
            }
            Some(url.to_string())
        }
    };
    let Some(live) = session::load(state, browser).await? else {
        return Ok(return_to.map_or(LogoutOutcome::LoggedOut, LogoutOutcome::Redirect));
    };
    if !hint_names(state, hint.as_ref(), sp.as_ref(), &live) && !confirmed {
        return Ok(LogoutOutcome::Confirm(params));
    }
    end_session(state, browser, &live, sp.as_ref(), return_to).await
}

/// Whether a verified hint names the person of `live` at `sp`.
fn hint_names(
    state: &AppState,
    hint: Option<&HintClaims>,
    sp: Option<&ServiceProvider>,
    live: &AuthenticatedSession,
) -> bool {
    match (hint, sp) {
        (Some(hint), Some(sp)) => {
            PairwiseSub::derive(&state.settings.pairwise_secret, &sp.subject_sector(), live.subject()).as_str()
                == hint.sub
        }
        _ => false,
    }
}

async fn end_session(
    state: &AppState,
    browser: &Browser,
    session: &AuthenticatedSession,
    sp: Option<&ServiceProvider>,
    return_to: Option<String>,
) -> Result<LogoutOutcome, PageError> {
    if let Some(id) = &browser.session_id {
        state.records.delete(Namespace::Session, &digest(id)).await?;
    }
    access::revoke_session(state, &session.sid).await?;
    state.metrics.session_ended(session.auth_time);
    let person = session::person_of(state, session);
    let event = StepEvent::logout(state.clock.now(), &person, &session.idp, sp.map(|sp| &sp.id), session.sps.len());
    state.tracer.emit(event).await?;
    let idp = state.registry.identity_provider(&session.idp).await?;
    let logout_state = random_token();
    let idp_logout = match &idp {
        Some(idp) => {
            state.upstream.logout_url(idp, session.idp_id_token.secret(), &logout_state).await.unwrap_or_else(|error| {
                tracing::warn!(idp = %idp.id, %error, "identity provider logout unavailable");
                None
            })
        }
        None => None,
    };
    match idp_logout {
        Some(url) => {
            let pending = PendingLogout { return_to };
            state.records.put(Namespace::Logout, &logout_state, &pending, state.settings.pending_lifetime).await?;
            Ok(LogoutOutcome::Redirect(url.to_string()))
        }
        None => Ok(return_to.map_or(LogoutOutcome::LoggedOut, LogoutOutcome::Redirect)),
    }
}

/// The IdP sent the person back after its logout: on to the SP.
#[tracing::instrument(skip_all)]
pub async fn logout_callback(state: &AppState, logout_state: Option<&str>) -> Result<LogoutOutcome, PageError> {
    let pending: Option<PendingLogout> = match logout_state {
        Some(value) => state.records.take(Namespace::Logout, value).await?,
        None => None,
    };
    Ok(match pending.and_then(|p| p.return_to) {
        Some(url) => LogoutOutcome::Redirect(url),
        None => LogoutOutcome::LoggedOut,
    })
}
