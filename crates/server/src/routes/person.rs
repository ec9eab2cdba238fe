//! The person's pages: the choice of an identity provider.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use relais_domain::IdpId;

use super::{browser, respond};
use crate::engine::{self, Outcome};
use crate::error::{AppError, ErrorPage};
use crate::state::AppState;

pub fn router() -> axum::Router<AppState> {
    Router::new()
        .route("/interaction/{flow}", get(choice_page))
        .route("/interaction/{flow}/choose", axum::routing::post(choose))
}

async fn choice_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(flow): Path<String>,
) -> Result<Response, AppError> {
    let (browser, _) = browser(&state, &headers);
    let next = engine::choice_page(&state, &flow, &browser).await?;
    Ok(respond(&state, Outcome::from(next), None))
}

#[derive(serde::Deserialize)]
struct Choice {
    idp: String,
}

async fn choose(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(flow): Path<String>,
    form: Result<Form<Choice>, FormRejection>,
) -> Result<Response, AppError> {
    let Form(choice) = form.map_err(|_| AppError::Page(ErrorPage::BadRequest))?;
    let (browser, _) = browser(&state, &headers);
    let next = engine::choose(&state, &flow, &IdpId::new(choice.idp), &browser).await?;
    Ok(respond(&state, Outcome::from(next), None))
}
