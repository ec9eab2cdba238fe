//! The endpoint data providers call: checktoken.

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use relais_oidc::ErrorCode;

use crate::engine::checktoken::{CheckTokenAnswer, CheckTokenForm};
use crate::engine::{self};
use crate::error::{no_store, ApiError};
use crate::state::AppState;

pub fn router() -> axum::Router<AppState> {
    Router::new().route("/checktoken", post(checktoken))
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
