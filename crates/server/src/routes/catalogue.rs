//! The public catalogue: `/catalogue` for people, `/catalogue.json` as open data (any site may
//! read it: `Access-Control-Allow-Origin: *`, nothing personal in it).

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json};

use crate::engine;
use crate::error::PageError;
use crate::i18n::Locale;
use crate::state::AppState;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/catalogue", get(page)).route("/catalogue.json", get(json))
}

async fn page(State(state): State<AppState>, Extension(locale): Extension<Locale>) -> Result<Response, PageError> {
    let catalogue = engine::catalogue::catalogue(&state).await?;
    Ok(state.pages.catalogue(&locale, &catalogue).into_response())
}

async fn json(State(state): State<AppState>) -> Result<Response, crate::error::ApiError> {
    let catalogue = engine::catalogue::catalogue(&state).await?;
    let mut response = Json(catalogue).into_response();
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    Ok(response)
}
