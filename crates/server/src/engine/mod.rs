//! The flow engine: each step of a sign-in as one function, from the SP's authorization request
//! to the code it gets back. Handlers call these and turn their outcome into HTTP. Each step
//! emits one structured trace event (target `relais::trace`) naming the SP, the IdP and the
//! outcome, never the person.

pub mod checktoken;
mod consent;
pub mod dashboard;
mod logout;
mod token;

mod identity;

pub use checktoken::checktoken;
pub use consent::{consent_page, decide_consent, ConsentItem, ConsentProvider, ConsentView, CONSENT_PATH};
use identity::start_upstream;
pub use identity::{choice_page, choose, idp_callback, IdpCallback};
pub use logout::{logout, logout_callback, LogoutOutcome, LogoutParams};
pub use token::{token, userinfo};

use relais_domain::data::requested_transfers;
use relais_domain::flow::{
    AuthenticatedSession, AuthorizationRequest, CodeGrant, DataGrant, IdentityGrant, PendingAuthorization, Prompt,
};
use relais_domain::providers::eligible_idps;
use relais_domain::trace::{TraceEvent, TraceKind};
use relais_domain::{DataTransfer, IdentityProvider, PairwiseSub, PersonKey, ServiceProvider};
use relais_oidc::authorize::{client_id_of, validate, AuthorizeError, AuthorizeRefusal, RawAuthorizationRequest};
use relais_oidc::random::{digest, random_token};
use relais_oidc::{ErrorCode, OAuthError};
use relais_store::Namespace;
use url::Url;

use crate::error::{AppError, ErrorPage};
use crate::pages::IdpChoice;
use crate::state::AppState;

/// The browser a request comes from: the digest of its binding cookie and its session id.
pub struct Browser {
    /// Digest of the binding cookie's value.
    pub binding: String,
    /// The hub session id from its cookie, if any.
    pub session_id: Option<String>,
    /// The IdP last chosen in this browser (its id only, from a cookie), shown first.
    pub last_idp: Option<String>,
}

/// Where the person goes next.
pub enum Next {
    /// A redirect (to the SP with a code or an error, or to an IdP).
    Redirect(String),
    /// The choice page.
    Choice {
        /// The pending authorization.
        flow: String,
        /// The SP's name.
        service: String,
        /// The eligible IdPs.
        idps: Vec<IdpChoice>,
        /// The SP's `ui_locales`.
        ui_locales: Option<String>,
    },
    /// A redirect to an IdP the person chose, remembered in the browser as the last one used.
    ToIdp {
        /// The IdP's authorization URL.
        url: String,
        /// The IdP's id.
        idp: String,
    },
}

/// The outcome of a step, with the session cookie to set if a session started.
pub struct Outcome {
    /// Where the person goes.
    pub next: Next,
    /// A new hub session id to set in the browser.
    pub new_session: Option<String>,
}

impl From<Next> for Outcome {
    fn from(next: Next) -> Self {
        Self { next, new_session: None }
    }
}

/// The SP's redirect URI with `params` and the hub's `iss` (RFC 9207) added.
fn redirect_to_sp(state: &AppState, redirect_uri: &str, params: &[(&str, &str)]) -> Result<String, AppError> {
    let mut url = Url::parse(redirect_uri).map_err(|_| AppError::Page(ErrorPage::UnregisteredRedirect))?;
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            query.append_pair(name, value);
        }
        query.append_pair("iss", &state.endpoints.issuer);
    }
    Ok(url.to_string())
}

fn error_redirect(
    state: &AppState,
    redirect_uri: &str,
    sp_state: Option<&str>,
    error: &OAuthError,
) -> Result<String, AppError> {
    let mut params = vec![("error", error.code.as_str()), ("error_description", error.description.as_str())];
    if let Some(value) = sp_state {
        params.push(("state", value));
    }
    redirect_to_sp(state, redirect_uri, &params)
}

fn refusal_page(refusal: AuthorizeRefusal) -> AppError {
    AppError::Page(match refusal {
        AuthorizeRefusal::MissingClientId | AuthorizeRefusal::UnknownClient => ErrorPage::UnknownService,
        AuthorizeRefusal::MissingRedirectUri | AuthorizeRefusal::UnregisteredRedirectUri => {
            ErrorPage::UnregisteredRedirect
        }
    })
}

async fn load_session(state: &AppState, browser: &Browser) -> Result<Option<AuthenticatedSession>, AppError> {
    let Some(id) = &browser.session_id else { return Ok(None) };
    let session: Option<AuthenticatedSession> = state.records.get(Namespace::Session, &digest(id)).await?;
    Ok(session.filter(|s| s.browser == browser.binding))
}

/// Whether a live session may sign the person in to `sp` for `request` without a new sign-in:
/// not with `prompt=login`, a level above the session's, a sign-in older than `max_age`, an
/// `id_token_hint` naming someone else, or an IdP the SP does not accept (any more).
fn session_serves(
    state: &AppState,
    session: &AuthenticatedSession,
    request: &AuthorizationRequest,
    sp: &ServiceProvider,
    idps: &[IdentityProvider],
) -> bool {
    let age = state.clock.now().0.saturating_sub(session.auth_time.0);
    let same_person = request.expected_sub.as_ref().is_none_or(|expected| {
        PairwiseSub::derive(&state.settings.pairwise_secret, &sp.sector, &session.pivot).as_str() == expected
    });
    request.prompt != Prompt::Login
        && session.acr >= request.required_level
        && request.max_age.is_none_or(|max_age| age <= max_age)
        && same_person
        && sp.idp_policy.allows(&session.idp)
        && idps.iter().any(|idp| idp.id == session.idp && idp.enabled)
}

#[derive(serde::Deserialize)]
struct HintClaims {
    aud: String,
    sub: String,
}

/// Step 1: the SP's authorization request. Answers with a code at once when a session serves
/// (single sign-on), else parks the request and sends the person to the choice page or, with an
/// eligible `idp_hint`, straight to that IdP.
#[tracing::instrument(skip_all, fields(sp))]
pub async fn authorize(
    state: &AppState,
    raw: &RawAuthorizationRequest,
    browser: &Browser,
) -> Result<Outcome, AppError> {
    let sp_id = client_id_of(raw).map_err(|e| match e {
        AuthorizeError::NotRedirectable(refusal) => refusal_page(refusal),
        AuthorizeError::Redirect { .. } => AppError::Page(ErrorPage::BadRequest),
    })?;
    tracing::Span::current().record("sp", sp_id.as_str());
    let sp = state.registry.service_provider(&sp_id).await?;
    let mut request = match validate(raw, sp.as_ref()) {
        Ok(request) => request,
        Err(AuthorizeError::NotRedirectable(refusal)) => {
            tracing::info!(target: "relais::trace", step = "authorization_asked", sp = %sp_id, outcome = "refused", "authorization refused");
            return Err(refusal_page(refusal));
        }
        Err(AuthorizeError::Redirect { redirect_uri, state: sp_state, error }) => {
            tracing::info!(target: "relais::trace", step = "authorization_asked", sp = %sp_id, outcome = error.code.as_str(), "authorization refused");
            return Ok(Next::Redirect(error_redirect(state, &redirect_uri, sp_state.as_deref(), &error)?).into());
        }
    };
    let Some(sp) = sp else { return Err(AppError::Page(ErrorPage::UnknownService)) };
    if let Some(hint) = raw.id_token_hint.as_deref() {
        match state.keys().verify_own::<HintClaims>(hint, &state.endpoints.issuer) {
            Ok(claims) if claims.aud == sp.id.as_str() => request.expected_sub = Some(claims.sub),
            _ => {
                let error = OAuthError::new(
                    ErrorCode::InvalidRequest,
                    "id_token_hint is not an ID token issued to this client",
                );
                let url = error_redirect(state, &request.redirect_uri, Some(&request.state), &error)?;
                return Ok(Next::Redirect(url).into());
            }
        }
    }
    let providers = state.registry.data_providers().await?;
    match requested_transfers(raw.scope.as_deref().unwrap_or_default(), &sp.id, &providers) {
        Ok(transfers) => request.transfers = transfers,
        Err(refused) => {
            let error = OAuthError::new(ErrorCode::InvalidScope, refused.to_string());
            return Ok(
                Next::Redirect(error_redirect(state, &request.redirect_uri, Some(&request.state), &error)?).into()
            );
        }
    }
    tracing::info!(target: "relais::trace", step = "authorization_asked", sp = %sp.id, level = %request.required_level, outcome = "ok", "authorization asked");

    let mut session = load_session(state, browser).await?;
    if let Some(live) = session.as_mut() {
        let registered = state.registry.identity_providers().await?;
        if session_serves(state, live, &request, &sp, &registered) && session_idp_unblocked(state, live).await? {
            let session_id = browser.session_id.clone().unwrap_or_default();
            let next = consent::complete_sign_in(state, &request, &sp, live, &session_id).await?;
            save_session(state, &session_id, live).await?;
            return Ok(next.into());
        }
    }
    let idps = offered_idps(state, session.as_ref()).await?;
    if request.prompt == Prompt::None {
        let error = OAuthError::new(ErrorCode::LoginRequired, "no session allows signing in without interaction");
        return Ok(Next::Redirect(error_redirect(state, &request.redirect_uri, Some(&request.state), &error)?).into());
    }
    let eligible = eligible_idps(&idps, &sp, request.required_level);
    if eligible.is_empty() {
        let error = OAuthError::new(
            ErrorCode::AccessDenied,
            "no identity provider reaches the requested level for this client",
        );
        return Ok(Next::Redirect(error_redirect(state, &request.redirect_uri, Some(&request.state), &error)?).into());
    }
    let hinted =
        request.idp_hint.as_ref().and_then(|hint| eligible.iter().find(|idp| &idp.id == hint)).copied().cloned();
    let choices = idp_choices(&eligible, browser.last_idp.as_deref());

    let flow = random_token();
    let pending = PendingAuthorization { request, browser: browser.binding.clone() };
    state.records.put(Namespace::PendingAuthorization, &flow, &pending, state.settings.pending_lifetime).await?;
    if let Some(idp) = hinted {
        return Ok(Next::Redirect(start_upstream(state, &flow, &pending, &idp).await?).into());
    }
    let ui_locales = pending.request.ui_locales.clone();
    Ok(Next::Choice { flow, service: sp.name, idps: choices, ui_locales }.into())
}

/// The IdPs of the choice page, the one last used in this browser first.
fn idp_choices(eligible: &[&IdentityProvider], last_idp: Option<&str>) -> Vec<IdpChoice> {
    let mut choices: Vec<IdpChoice> = eligible
        .iter()
        .map(|idp| IdpChoice {
            id: idp.id.to_string(),
            name: idp.display_name.clone(),
            last_used: last_idp == Some(idp.id.as_str()),
        })
        .collect();
    // A stable sort: the others keep the configured order.
    choices.sort_by_key(|choice| !choice.last_used);
    choices
}

/// The identity providers that may be offered in this browser: all, but those the person of the
/// browser's session blocked for their account.
async fn offered_idps(
    state: &AppState,
    session: Option<&AuthenticatedSession>,
) -> Result<Vec<IdentityProvider>, AppError> {
    let idps = state.registry.identity_providers().await?;
    let Some(session) = session else { return Ok(idps) };
    let person = PersonKey::derive(&state.settings.pairwise_secret, &session.pivot);
    let blocked = state.preferences.blocked_idps(person.as_str()).await?;
    Ok(idps.into_iter().filter(|idp| !blocked.contains(&idp.id)).collect())
}

/// Whether the person still allows the IdP of their session. The session was opened only after
/// their blocked IdPs were read (the callback refuses a blocked one), so they are read again only
/// if the person changed them since: the dashboard leaves a mark that outlives every session
/// opened before the change. Single sign-on thus reads no database.
async fn session_idp_unblocked(state: &AppState, session: &AuthenticatedSession) -> Result<bool, AppError> {
    let person = PersonKey::derive(&state.settings.pairwise_secret, &session.pivot);
    if state.records.get::<bool>(Namespace::PreferencesChanged, &digest(person.as_str())).await?.is_none() {
        return Ok(true);
    }
    Ok(!state.preferences.blocked_idps(person.as_str()).await?.contains(&session.idp))
}

/// Leaves the mark that `person` changed their preferences, once the change is committed, for
/// as long as a session opened before it can live. Keyed by a digest, like every other entry.
pub(crate) async fn mark_preferences_changed(state: &AppState, person: &str) -> Result<(), AppError> {
    let lifetime = state.settings.session_lifetime;
    state.records.put(Namespace::PreferencesChanged, &digest(person), &true, lifetime).await?;
    Ok(())
}

async fn save_session(state: &AppState, session_id: &str, session: &AuthenticatedSession) -> Result<(), AppError> {
    let expires_at = session.auth_time.plus(state.settings.session_lifetime);
    let remaining = expires_at.0.saturating_sub(state.clock.now().0);
    if remaining > 0 {
        state.records.put(Namespace::Session, &digest(session_id), session, remaining).await?;
    }
    Ok(())
}

/// Step 4: a single-use code for the SP, carrying what it may learn: the pairwise `sub` for its
/// sector, the claims of its scopes and the data transfers the person consented to.
async fn issue_code(
    state: &AppState,
    request: &AuthorizationRequest,
    sp: &ServiceProvider,
    session: &mut AuthenticatedSession,
    granted: &[DataTransfer],
) -> Result<String, AppError> {
    let sub = PairwiseSub::derive(&state.settings.pairwise_secret, &sp.sector, &session.pivot);
    let person = PersonKey::derive(&state.settings.pairwise_secret, &session.pivot);
    let grant = IdentityGrant::new(sub.clone(), request.scopes.clone(), &session.pivot, session.acr, session.auth_time);
    let mut scopes: Vec<String> = request.scopes.iter().map(|s| s.name().to_owned()).collect();
    scopes.extend(granted.iter().map(|t| t.scope.clone()));
    record(
        state,
        TraceEvent {
            at: state.clock.now(),
            kind: TraceKind::SignIn,
            person: Some(person.as_str().to_owned()),
            sub: Some(sub.as_str().to_owned()),
            sp: Some(sp.id.to_string()),
            idp: Some(session.idp.to_string()),
            dp: None,
            scopes,
            outcome: session.acr.as_acr().to_owned(),
        },
    )
    .await?;
    let code = random_token();
    let record = CodeGrant {
        sp: sp.id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        nonce: request.nonce.clone(),
        grant,
        data: DataGrant {
            transfers: granted.to_vec(),
            pivot: (!granted.is_empty()).then(|| session.pivot.clone()),
            person: person.as_str().to_owned(),
            idp: session.idp.clone(),
        },
    };
    state.records.put(Namespace::Code, &digest(&code), &record, state.settings.code_lifetime).await?;
    if !session.sps.contains(&sp.id) {
        session.sps.push(sp.id.clone());
    }
    tracing::info!(target: "relais::trace", step = "code_issued", sp = %sp.id, idp = %session.idp, acr = %session.acr, transfers = granted.len(), outcome = "ok", "code issued");
    redirect_to_sp(state, &request.redirect_uri, &[("code", &code), ("state", &request.state)])
}

/// Records a trace; the step fails (closed) if it cannot be recorded.
async fn record(state: &AppState, event: TraceEvent) -> Result<(), AppError> {
    state.traces.append(&event).await?;
    Ok(())
}
