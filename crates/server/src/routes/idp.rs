//! Where identity providers send the person back: after sign-in and after logout.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use relais_domain::IdpId;

use super::sp::logout_response;
use super::{browser, respond};
use crate::engine::{self, IdpCallback};
use crate::error::{ErrorPage, PageError};
use crate::i18n::Locale;
use crate::state::AppState;

pub fn router() -> axum::Router<AppState> {
    Router::new().route("/idp/{idp}/callback", get(callback)).route("/idp/logout-callback", get(logout_callback))
}

async fn callback(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    Path(idp): Path<String>,
    headers: HeaderMap,
    query: Result<Query<IdpCallback>, QueryRejection>,
) -> Result<Response, PageError> {
    let Query(callback) = query.map_err(|_| PageError::Page(ErrorPage::BadRequest))?;
    let (browser, _) = browser(&state, &headers);
    let outcome = engine::idp_callback(&state, &IdpId::new(idp), &callback, &browser).await?;
    Ok(respond(&state, locale, outcome, None))
}

#[derive(serde::Deserialize)]
struct LogoutCallback {
    state: Option<String>,
}

async fn logout_callback(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    query: Result<Query<LogoutCallback>, QueryRejection>,
) -> Result<Response, PageError> {
    let logout_state = query.ok().and_then(|Query(q)| q.state);
    let outcome = engine::logout_callback(&state, logout_state.as_deref()).await?;
    Ok(logout_response(&state, &locale, outcome))
}
