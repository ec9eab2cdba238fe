//! The hub session as the steps use it: loaded from the browser's cookie (and only in the
//! browser it was opened in), saved for what remains of its lifetime, and the identity
//! providers the person of a session may be offered.

use relais_domain::flow::AuthenticatedSession;
use relais_domain::values::Digest;
use relais_domain::{IdentityProvider, PersonKey, ServiceProvider, SpId};
use relais_oidc::random::digest;
use relais_store::Namespace;

use super::Browser;
use crate::error::{ErrorPage, PageError};
use crate::pages::IdpChoice;
use crate::state::AppState;

/// The live session of this browser, if any.
pub async fn load(state: &AppState, browser: &Browser) -> Result<Option<AuthenticatedSession>, PageError> {
    let Some(id) = &browser.session_id else { return Ok(None) };
    let session: Option<AuthenticatedSession> = state.records.get(Namespace::Session, &digest(id)).await?;
    Ok(session.filter(|s| browser.owns(&s.browser)))
}

/// Saves `session` under `session_id` for what remains of its lifetime.
pub async fn save(state: &AppState, session_id: &str, session: &AuthenticatedSession) -> Result<(), PageError> {
    let expires_at = session.auth_time.plus(state.settings.session_lifetime);
    let remaining = expires_at.0.saturating_sub(state.clock.now().0);
    if remaining > 0 {
        state.records.put(Namespace::Session, &digest(session_id), session, remaining).await?;
    }
    Ok(())
}

/// The registered service provider `id`, or the unknown-service page.
pub async fn service(state: &AppState, id: &SpId) -> Result<ServiceProvider, PageError> {
    state.registry.service_provider(id).await?.ok_or(PageError::Page(ErrorPage::UnknownService))
}

/// The pending record `id` of `ns` bound to this browser (`bound_to` says where its binding
/// is), or the expired-session page.
pub async fn pending<T: serde::de::DeserializeOwned>(
    state: &AppState,
    ns: Namespace,
    id: &str,
    browser: &Browser,
    bound_to: impl Fn(&T) -> &Digest,
) -> Result<T, PageError> {
    let record: Option<T> = state.records.get(ns, id).await?;
    record.filter(|record| browser.owns(bound_to(record))).ok_or(PageError::Page(ErrorPage::SessionExpired))
}

/// The person key of a session's person.
pub fn person_of(state: &AppState, session: &AuthenticatedSession) -> PersonKey {
    PersonKey::derive(&state.settings.pairwise_secret, session.subject())
}

/// The identity providers that may be offered in this browser: all, but those the person of the
/// browser's session blocked for their account.
pub async fn offered_idps(
    state: &AppState,
    session: Option<&AuthenticatedSession>,
) -> Result<Vec<IdentityProvider>, PageError> {
    let idps = state.registry.identity_providers().await?;
    let Some(session) = session else { return Ok(idps) };
    let preferences = state.preferences.preferences(person_of(state, session).as_str()).await?;
    Ok(idps.into_iter().filter(|idp| !preferences.blocks(&idp.id)).collect())
}

/// Whether the person still allows the IdP of their session. The session was opened only after
/// their blocked IdPs were read (the callback refuses a blocked one), so they are read again only
/// if the person changed them since: the dashboard leaves a mark that outlives every session
/// opened before the change. Single sign-on thus reads no database.
pub async fn idp_still_allowed(state: &AppState, session: &AuthenticatedSession) -> Result<bool, PageError> {
    let person = person_of(state, session);
    if state.records.get::<bool>(Namespace::PreferencesChanged, &digest(person.as_str())).await?.is_none() {
        return Ok(true);
    }
    Ok(!state.preferences.preferences(person.as_str()).await?.blocks(&session.idp))
}

/// Leaves the mark that `person` changed their preferences, once the change is committed, for
/// as long as a session opened before it can live. Keyed by a digest, like every other entry.
pub async fn mark_preferences_changed(state: &AppState, person: &str) -> Result<(), PageError> {
    let lifetime = state.settings.session_lifetime;
    state.records.put(Namespace::PreferencesChanged, &digest(person), &true, lifetime).await?;
    Ok(())
}

/// The IdPs of the choice page, the one last used in this browser first.
pub fn idp_choices(state: &AppState, eligible: &[&IdentityProvider], last_idp: Option<&str>) -> Vec<IdpChoice> {
    let now = state.clock.now();
    let mut choices: Vec<IdpChoice> = eligible
        .iter()
        .map(|idp| IdpChoice {
            id: idp.id.to_string(),
            name: idp.display_name.clone(),
            last_used: last_idp == Some(idp.id.as_str()),
            down: state.metrics.idp_is_down(&idp.id, now),
        })
        .collect();
    // Stable sorts: the others keep the configured order; an IdP down goes last.
    choices.sort_by_key(|choice| (choice.down, !choice.last_used));
    choices
}
