//! The partner portal (`/partenaires`): an organisation's agents sign in to it through the hub's
//! agent federation (a public agent service of the hub with PKCE, as the dashboard is a
//! citizen one), see their organisation's services, declare one and get its sandbox client at
//! once (`services.rs`). An agent sees the services of their organisation (SIREN) only.

pub mod admin_tokens;
pub mod mail;
pub mod requests;
pub mod services;
pub mod team;

use relais_oidc::pkce::s256_challenge;
use relais_oidc::random::{digest, random_token};
use relais_oidc::token::RawTokenRequest;
use relais_store::Namespace;
use serde::{Deserialize, Serialize};
use url::Url;

use relais_domain::agent::Siret;
pub use relais_domain::portal::PORTAL_CLIENT_ID;
use relais_domain::values::Digest;

use super::support::Browser;
use super::token::token;
use crate::error::{ErrorPage, PageError};
use crate::state::AppState;

/// The portal's home.
pub const PORTAL_PATH: &str = "/partenaires";
/// Where the agent federation sends the agent back to the portal.
pub const PORTAL_CALLBACK_PATH: &str = "/partenaires/retour";
/// How long a portal session lives, seconds (an hour of work on a form).
pub const PORTAL_SESSION_LIFETIME: u64 = 3600;

#[derive(Serialize, Deserialize)]
struct PortalLogin {
    nonce: String,
    verifier: String,
    browser: Digest,
}

/// An agent signed in to the portal.
#[derive(Clone, Serialize, Deserialize)]
pub struct PortalSession {
    /// Their agent `sub` (the same at every agent service).
    pub agent: String,
    /// Their e-mail address.
    pub email: String,
    /// Their given name.
    pub given_name: String,
    /// Their organisation: the SIREN of their establishment.
    pub organisation: String,
    /// Its name.
    pub organisation_label: String,
    /// The forms' anti-forgery token.
    pub csrf: String,
    browser: Digest,
    /// A secret to show once on the next page: the service's id and the secret.
    #[serde(default)]
    pub shown_once: Option<(String, String)>,
}

impl PortalSession {
    /// A session of the pages' tests.
    #[cfg(test)]
    pub fn for_tests() -> Self {
        Self {
            agent: "agent-sub".into(),
            email: "jeanne.moreau@demoville.fr".into(),
            given_name: "Jeanne".into(),
            organisation: "217500016".into(),
            organisation_label: "Commune de Démoville".into(),
            csrf: "csrf".into(),
            browser: Digest::new("b".to_owned()),
            shown_once: None,
        }
    }

    /// The author of the changes this agent makes, in the traces.
    pub fn author(&self) -> String {
        format!("agent:{}", self.agent)
    }
}

fn callback_url(state: &AppState) -> String {
    format!("{}{PORTAL_CALLBACK_PATH}", state.endpoints.issuer)
}

/// The portal is configured, or there is no such page.
pub fn enabled(state: &AppState) -> Result<&crate::settings::PortalSettings, PageError> {
    state.settings.portal.as_ref().ok_or(PageError::Page(ErrorPage::NotFound))
}

/// Sends the agent to sign in through the agent federation; the URL to go to.
#[tracing::instrument(skip_all)]
pub async fn start_sign_in(state: &AppState, browser: &Browser) -> Result<String, PageError> {
    enabled(state)?;
    let (login_state, nonce, verifier) = (random_token(), random_token(), random_token());
    let login = PortalLogin { nonce: nonce.clone(), verifier: verifier.clone(), browser: browser.binding.clone() };
    state.records.put(Namespace::PortalLogin, &login_state, &login, state.settings.pending_lifetime).await?;
    let agents = state.agents();
    let mut url = Url::parse(&agents.endpoints.authorization).map_err(|_| PageError::Page(ErrorPage::BadRequest))?;
    url.query_pairs_mut()
        .append_pair("client_id", PORTAL_CLIENT_ID)
        .append_pair("redirect_uri", &callback_url(state))
        .append_pair("response_type", "code")
        .append_pair("scope", "openid email given_name usual_name siret organization_label")
        .append_pair("state", &login_state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &s256_challenge(&verifier))
        .append_pair("code_challenge_method", "S256");
    Ok(url.to_string())
}

/// The agent federation's answer to the portal's sign-in.
#[derive(Default, Deserialize)]
pub struct PortalCallback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct PortalIdToken {
    aud: String,
    sub: String,
    nonce: String,
    email: String,
    #[serde(default)]
    given_name: String,
    siret: String,
    #[serde(default)]
    organization_label: Option<String>,
}

/// Completes the portal's sign-in (the code exchanged inside the hub at the agent federation's
/// token step, the ID token checked as any agent service would); the new session's id.
#[tracing::instrument(skip_all)]
pub async fn callback(state: &AppState, callback: &PortalCallback, browser: &Browser) -> Result<String, PageError> {
    enabled(state)?;
    let login: PortalLogin = match callback.state.as_deref() {
        Some(value) => state.records.take(Namespace::PortalLogin, value).await?,
        None => None,
    }
    .filter(|login: &PortalLogin| browser.owns(&login.browser))
    .ok_or(PageError::Page(ErrorPage::SessionExpired))?;
    if callback.error.is_some() {
        return Err(PageError::Page(ErrorPage::SessionExpired));
    }
    let code = callback.code.clone().ok_or(PageError::Page(ErrorPage::BadRequest))?;
    let form = RawTokenRequest {
        grant_type: Some("authorization_code".into()),
        code: Some(code),
        redirect_uri: Some(callback_url(state)),
        code_verifier: Some(login.verifier),
        client_id: Some(PORTAL_CLIENT_ID.into()),
        ..Default::default()
    };
    let agents = state.agents();
    let tokens = token(&agents, None, &form).await.map_err(|_| PageError::Page(ErrorPage::IdentityRejected))?;
    let id_token = tokens["id_token"].as_str().ok_or(PageError::Page(ErrorPage::IdentityRejected))?;
    let claims: PortalIdToken = agents
        .keys()
        .verify_own(id_token, &agents.endpoints.issuer)
        .map_err(|_| PageError::Page(ErrorPage::IdentityRejected))?;
    if claims.aud != PORTAL_CLIENT_ID || claims.nonce != login.nonce {
        return Err(PageError::Page(ErrorPage::IdentityRejected));
    }
    let siret = Siret::parse(&claims.siret).map_err(|_| PageError::Page(ErrorPage::IdentityRejected))?;
    let session_id = random_token();
    let session = PortalSession {
        agent: claims.sub,
        email: claims.email,
        given_name: claims.given_name,
        organisation: siret.siren().to_owned(),
        organisation_label: claims.organization_label.unwrap_or_else(|| siret.siren().to_owned()),
        csrf: random_token(),
        browser: browser.binding.clone(),
        shown_once: None,
    };
    state.records.put(Namespace::PortalSession, &digest(&session_id), &session, PORTAL_SESSION_LIFETIME).await?;
    Ok(session_id)
}

/// The agent's session in this browser, if any.
pub async fn session(
    state: &AppState,
    session_id: Option<&str>,
    browser: &Browser,
) -> Result<Option<PortalSession>, PageError> {
    enabled(state)?;
    let Some(id) = session_id else { return Ok(None) };
    let session: Option<PortalSession> = state.records.get(Namespace::PortalSession, &digest(id)).await?;
    Ok(session.filter(|s| browser.owns(&s.browser)))
}

/// Keeps a changed session (a secret to show once, or shown and forgotten).
pub async fn save(state: &AppState, session_id: &str, session: &PortalSession) -> Result<(), PageError> {
    state.records.put(Namespace::PortalSession, &digest(session_id), session, PORTAL_SESSION_LIFETIME).await?;
    Ok(())
}

/// The session of a form's request: signed in, in this browser, with the form's token.
pub async fn checked(
    state: &AppState,
    session_id: Option<&str>,
    browser: &Browser,
    csrf: &str,
) -> Result<PortalSession, PageError> {
    let session = session(state, session_id, browser).await?.ok_or(PageError::Page(ErrorPage::SessionExpired))?;
    let same = relais_oidc::random::digest(&session.csrf) == relais_oidc::random::digest(csrf);
    if !same {
        return Err(PageError::Page(ErrorPage::SessionExpired));
    }
    Ok(session)
}

/// Ends the agent's portal session.
pub async fn sign_out(state: &AppState, session_id: Option<&str>) -> Result<(), PageError> {
    if let Some(id) = session_id {
        state.records.delete(Namespace::PortalSession, &digest(id)).await?;
    }
    Ok(())
}
