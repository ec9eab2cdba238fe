//! The person's pages: the choice of an identity provider.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Form, Router};
use relais_domain::IdpId;

use super::{browser, respond};
use crate::engine::{self, Outcome};
use crate::error::{ErrorPage, PageError};
use crate::i18n::Locale;
use crate::state::AppState;

pub fn router() -> axum::Router<AppState> {
    choice_router().route("/consentement/{flow}", get(consent_page).post(consent))
}

/// The choice of an IdP (both federations).
pub fn choice_router() -> axum::Router<AppState> {
    Router::new()
        .route("/interaction/{flow}", get(choice_page))
        .route("/interaction/{flow}/choose", axum::routing::post(choose))
}

async fn consent_page(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    headers: HeaderMap,
    Path(flow): Path<String>,
) -> Result<Response, PageError> {
    let (browser, _) = browser(&state, &headers);
    let view = engine::consent_page(&state, &flow, &browser).await?;
    let locale = locale.with_ui_locales(view.ui_locales.as_deref());
    Ok((crate::error::no_store(), state.pages.consent(&locale, &view)).into_response())
}

/// The consent form: `decision` is `accepter` or `refuser`; each ticked `transfert` is a
/// transfer the person accepts.
async fn consent(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    headers: HeaderMap,
    Path(flow): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let (browser, _) = browser(&state, &headers);
    let pairs = super::form_pairs(&body);
    let accepted = match pairs.iter().find(|(k, _)| k == "decision").map(|(_, v)| v.as_str()) {
        Some("accepter") => Some(pairs.iter().filter(|(k, _)| k == "transfert").map(|(_, v)| v.clone()).collect()),
        Some("refuser") => None,
        _ => return Err(PageError::Page(ErrorPage::BadRequest)),
    };
    let outcome = engine::decide_consent(&state, &flow, accepted, &browser).await?;
    Ok(respond(&state, locale, outcome, None))
}

async fn choice_page(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    headers: HeaderMap,
    Path(flow): Path<String>,
) -> Result<Response, PageError> {
    let (browser, _) = browser(&state, &headers);
    let next = engine::choice_page(&state, &flow, &browser).await?;
    Ok(respond(&state, locale, Outcome::from(next), None))
}

#[derive(serde::Deserialize)]
struct Choice {
    idp: String,
}

async fn choose(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    headers: HeaderMap,
    Path(flow): Path<String>,
    form: Result<Form<Choice>, FormRejection>,
) -> Result<Response, PageError> {
    let Form(choice) = form.map_err(|_| PageError::Page(ErrorPage::BadRequest))?;
    let (browser, _) = browser(&state, &headers);
    let next = engine::choose(&state, &flow, &IdpId::new(choice.idp), &browser).await?;
    Ok(respond(&state, locale, Outcome::from(next), None))
}
