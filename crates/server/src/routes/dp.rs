//! The endpoints data providers call: checktoken, and the trace checkpoint anyone may keep.

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use relais_oidc::ErrorCode;

use crate::engine::checktoken::{CheckTokenAnswer, CheckTokenForm};
use crate::engine::{self};
use crate::error::{no_store, ApiError};
use crate::state::AppState;

pub fn router() -> axum::Router<AppState> {
    Router::new().route("/checktoken", post(checktoken)).route("/traces/checkpoint", get(trace_checkpoint))
}

/// The latest signed checkpoint of the trace chain (made now if this node has none yet), for
/// anyone to keep: `{"checkpoint": JWT, "trace_count", "trace_head", "iat"}`.
async fn trace_checkpoint(State(state): State<AppState>) -> Result<Response, ApiError> {
    let published = match state.latest_checkpoint() {
        Some(published) => published,
        None => state.checkpoint_traces().await.map_err(|error| {
            tracing::error!(%error, "no trace checkpoint");
            ApiError::oauth(ErrorCode::TemporarilyUnavailable, "no checkpoint can be made now")
        })?,
    };
    let body = serde_json::json!({
        "checkpoint": published.jwt,
        "trace_count": published.checkpoint.count,
        "trace_head": published.checkpoint.head,
        "iat": published.checkpoint.at.0,
    });
    Ok((no_store(), Json(body)).into_response())
}

async fn checktoken(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<CheckTokenForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) =
        form.map_err(|_| ApiError::oauth(ErrorCode::InvalidRequest, "checktoken takes a form with `token`"))?;
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let wants_jwt = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/token-introspection+jwt"));
    Ok(match engine::checktoken(&state, authorization, &form, wants_jwt).await? {
        CheckTokenAnswer::Json(answer) => (no_store(), Json(answer)).into_response(),
        CheckTokenAnswer::Jwt(jwt) => {
            (no_store(), [(header::CONTENT_TYPE, HeaderValue::from_static("application/token-introspection+jwt"))], jwt)
                .into_response()
        }
    })
}
