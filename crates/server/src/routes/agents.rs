//! The agent federation, under `{hub issuer}/agents`: the same endpoints as the citizens'
//! (discovery, JWKS, authorization, token, userinfo, logout, the IdPs' callbacks, the choice of
//! an IdP), served by the agent view of the hub, plus the e-mail page that routes an agent to
//! the IdP of their domain.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::{Extension, Router};

use super::{browser, respond};
use crate::engine::{self, Outcome};
use crate::error::{ErrorPage, PageError};
use crate::i18n::Locale;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(super::sp::router())
        .merge(super::idp::router())
        .merge(super::person::choice_router())
        .route("/interaction/{flow}/email", axum::routing::post(email))
}

/// The e-mail form: `email`.
async fn email(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    headers: HeaderMap,
    Path(flow): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let pairs = super::form_pairs(&body);
    let mut emails = pairs.iter().filter(|(k, _)| k == "email");
    let (Some((_, email)), None) = (emails.next(), emails.next()) else {
        return Err(PageError::Page(ErrorPage::BadRequest));
    };
    let (browser, _) = browser(&state, &headers);
    let next = engine::route_email(&state, &flow, email, &browser).await?;
    Ok(respond(&state, locale, Outcome::from(next), None))
}
