//! Access tokens as userinfo and checktoken see them: a token is live while its record exists,
//! it has not expired, and the session it was issued in has not been ended by logout.

use relais_domain::flow::{AccessGrant, EndedSession};
use relais_domain::values::Sid;
use relais_oidc::random::digest;
use relais_store::{Namespace, StoreError};

use crate::state::AppState;

/// The grant of access token `token`, if it is live: not expired, its session not ended, and
/// its client still registered (a client removed, or its habilitation revoked, loses its
/// tokens at once on this node, and on the others within the registry cache's lifetime).
pub async fn live(state: &AppState, token: &str) -> Result<Option<AccessGrant>, StoreError> {
    let Some(access) = state.records.get::<AccessGrant>(Namespace::AccessToken, &digest(token)).await? else {
        return Ok(None);
    };
    if !state.clock.now().is_before(access.expires_at) {
        return Ok(None);
    }
    if state.records.get::<EndedSession>(Namespace::EndedSession, access.sid.as_str()).await?.is_some() {
        return Ok(None);
    }
    if state.registry.service_provider(&access.sp).await?.is_none() {
        return Ok(None);
    }
    Ok(Some(access))
}

/// Revokes every token of session `sid`: those issued, and those its codes not yet redeemed
/// will give (the mark outlives them all).
pub async fn revoke_session(state: &AppState, sid: &Sid) -> Result<(), StoreError> {
    let longest = state.settings.code_lifetime + state.settings.access_token_lifetime;
    state.records.put(Namespace::EndedSession, sid.as_str(), &EndedSession, longest).await
}
