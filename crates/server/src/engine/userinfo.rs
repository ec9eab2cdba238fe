//! Step 6: userinfo (OpenID Connect Core 1.0, section 5.3): the claims of a live access
//! token's scopes, with its pairwise `sub`. A token revoked by logout is invalid here.

use relais_domain::step::StepEvent;
use relais_oidc::{ErrorCode, OAuthError};
use serde_json::{json, Value};

use super::support::access;
use crate::error::ApiError;
use crate::state::AppState;

/// Step 6, with the bearer token presented (`None` without an `Authorization: Bearer`).
#[tracing::instrument(skip_all)]
pub async fn userinfo(state: &AppState, access_token: Option<&str>) -> Result<Value, ApiError> {
    let token = access_token.filter(|t| !t.is_empty()).ok_or(ApiError::BearerMissing)?;
    // A token of the other federation is not valid at this userinfo endpoint.
    let access =
        access::live(state, token).await?.filter(|a| a.grant.profile == state.federation).ok_or_else(|| {
            ApiError::Bearer(OAuthError::new(
                ErrorCode::InvalidToken,
                "the access token is invalid, expired or revoked",
            ))
        })?;
    let mut body = serde_json::Map::new();
    body.insert("sub".into(), json!(access.grant.sub.as_str()));
    for (name, value) in &access.grant.claims {
        body.insert(name.clone(), json!(value));
    }
    state.tracer.emit(StepEvent::userinfo(&access.sp)).await?;
    Ok(Value::Object(body))
}
