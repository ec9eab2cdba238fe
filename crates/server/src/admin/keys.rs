//! `/api/admin/keys`: the hub's signing keys, listed (never their private part) and rotated
//! without downtime (the new keys are published before they sign).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use relais_domain::step::StepEvent;

use super::bodies::{self, KeyView, RotationBody, RotationView};
use super::{answer, AdminError, ErrorBody, Operator};
use crate::keys::{keep_replaced_for, KeySetupError, SIGNING_ALGORITHMS};
use crate::state::AppState;

/// The default time new keys are published before they sign: a day.
const DEFAULT_PUBLISH_FOR: u64 = 86_400;
/// At most thirty days.
const MAX_PUBLISH_FOR: u64 = 30 * 86_400;

/// The signing keys, published or retiring.
#[utoipa::path(get, path = "/api/admin/keys", tag = "keys",
    responses(
        (status = 200, description = "The signing keys and their dates", body = Vec<KeyView>),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 503, description = "The key store cannot be reached", body = ErrorBody),
    ))]
pub async fn list(State(state): State<AppState>, _operator: Operator) -> Result<Response, AdminError> {
    let keys: Vec<KeyView> = state
        .key_store
        .load()
        .await?
        .into_iter()
        .map(|key| KeyView {
            kid: key.kid,
            alg: key.alg,
            created_at: key.created_at,
            not_before: key.not_before,
            retire_at: key.retire_at,
        })
        .collect();
    Ok(answer(StatusCode::OK, keys))
}

/// Rotates the signing keys: a new key per algorithm, published now, signing after
/// `publish_for` seconds; the keys it replaces stay published while tokens they signed live.
#[utoipa::path(post, path = "/api/admin/keys/rotation", tag = "keys",
    request_body(content = Option<RotationBody>, description = "Optional: `{}` or no body takes the defaults"),
    responses(
        (status = 200, description = "The keys added", body = RotationView),
        (status = 400, description = "A field is wrong: nothing changed", body = ErrorBody),
        (status = 401, description = "No operator's token", body = ErrorBody),
        (status = 503, description = "The key store cannot be reached", body = ErrorBody),
    ))]
pub async fn rotate(State(state): State<AppState>, operator: Operator, body: Bytes) -> Result<Response, AdminError> {
    let body: RotationBody = if body.is_empty() { RotationBody::default() } else { bodies::parse(&body)? };
    let publish_for = body.publish_for.unwrap_or(DEFAULT_PUBLISH_FOR);
    if publish_for > MAX_PUBLISH_FOR {
        return Err(AdminError::invalid(
            "publish_for",
            format!("at most {MAX_PUBLISH_FOR} seconds (30 days)"),
            format!("au plus {MAX_PUBLISH_FOR} secondes (30 jours)"),
        ));
    }
    let now = state.clock.now();
    let keep_for = keep_replaced_for(state.settings.id_token_lifetime.max(state.settings.access_token_lifetime));
    let unavailable = |error: KeySetupError| match error {
        KeySetupError::Store(store) => AdminError::Store(store),
        KeySetupError::Jose(jose) => AdminError::Store(relais_store::StoreError::Unavailable(jose.to_string())),
    };
    let added = crate::keys::rotate(state.key_store.as_ref(), &SIGNING_ALGORITHMS, now.0, publish_for, keep_for)
        .await
        .map_err(unavailable)?;
    state.reload_keys().await.map_err(unavailable)?;
    state.tracer.emit(StepEvent::keys_rotated(now, &operator.author(), &added)).await?;
    Ok(answer(StatusCode::OK, RotationView { added, signs_from: now.0 + publish_for }))
}
