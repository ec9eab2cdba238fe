//! RP-initiated logout and the session probe used by tests.

use super::authorize::{message, Params};
use super::{lock, IdpState};
use crate::web::{cookie, expired_cookie, see_other};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};
use std::sync::Arc;

/// `GET /logout` (RP-Initiated Logout 1.0).
pub(super) async fn logout(
    State(state): State<Arc<IdpState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    let hint = params.present("id_token_hint");
    let hint_audience = match hint {
        None => None,
        Some(token) => match hint_audience(&state, token) {
            Some(audience) => Some(audience),
            None => {
                return message(
                    &state,
                    StatusCode::BAD_REQUEST,
                    "Déconnexion refusée",
                    "Le jeton d'identité fourni (id_token_hint) n'a pas été émis par ce fournisseur.",
                    Some("invalid_request"),
                )
            }
        },
    };
    let client_id = params.present("client_id");
    let known_client = match (hint_audience.as_deref(), client_id) {
        (Some(audience), Some(client_id)) => audience == client_id && client_id == state.settings.client_id,
        (Some(audience), None) => audience == state.settings.client_id,
        (None, Some(client_id)) => client_id == state.settings.client_id,
        (None, None) => false,
    };

    if let Some(session) = cookie(&headers, &state.cookie_name) {
        lock(&state.inner).sessions.remove(&session);
    }
    let redirect = params
        .present("post_logout_redirect_uri")
        .filter(|uri| known_client && state.settings.post_logout_redirect_uris.iter().any(|r| r == uri))
        .and_then(|uri| url::Url::parse(uri).ok());
    let mut response = match redirect {
        Some(mut location) => {
            if let Some(client_state) = params.present("state") {
                location.query_pairs_mut().append_pair("state", client_state);
            }
            see_other(location.as_str())
        }
        None => message(
            &state,
            StatusCode::OK,
            "Vous êtes déconnecté",
            "Vous êtes déconnecté de ce fournisseur d'identité. Vous pouvez fermer cette page.",
            None,
        ),
    };
    if let Some(value) = expired_cookie(&state.cookie_name) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The audience of an ID token this provider issued (signature checked or token
/// remembered as issued; expiry not checked).
fn hint_audience(state: &IdpState, token: &str) -> Option<String> {
    let claims = match state.keys.verify_hint(token, &state.issuer) {
        Some(claims) => claims,
        None => {
            if !lock(&state.inner).issued_id_tokens.iter().any(|issued| issued == token) {
                return None;
            }
            let payload = token.split('.').nth(1)?;
            let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
            serde_json::from_slice(&bytes).ok()?
        }
    };
    match claims.get("aud") {
        Some(Value::String(audience)) => Some(audience.clone()),
        Some(Value::Array(audiences)) => audiences.iter().find_map(|a| a.as_str()).map(str::to_owned),
        _ => Some(String::new()),
    }
}

/// `GET /session`: whether the browser's cookie names a live session (and whose).
pub(super) async fn session(State(state): State<Arc<IdpState>>, headers: HeaderMap) -> Json<Value> {
    let identity = cookie(&headers, &state.cookie_name)
        .and_then(|session| lock(&state.inner).sessions.get(&session).map(|s| s.identity));
    match identity.and_then(|index| state.settings.identities.get(index)) {
        Some(person) => Json(json!({ "active": true, "sub": person.sub })),
        None => Json(json!({ "active": false })),
    }
}
