//! The endpoints service providers call: discovery, JWKS, authorization, token, userinfo and
//! end session.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, RawQuery, State};
use axum::http::{header, HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Json, Router};
use relais_oidc::authorize::RawAuthorizationRequest;
use relais_oidc::discovery::{agent_discovery_document, discovery_document};
use relais_oidc::token::RawTokenRequest;
use relais_oidc::ErrorCode;

use super::{browser, respond};
use crate::cookies;
use crate::engine::{self, LogoutOutcome, LogoutParams};
use crate::error::{no_store, see_other, ApiError, ErrorPage, PageError};
use crate::i18n::Locale;
use crate::state::AppState;

pub fn router() -> axum::Router<AppState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/authorize", get(authorize_get).post(authorize_post))
        .route("/token", post(token))
        .route("/userinfo", get(userinfo).post(userinfo))
        .route("/logout", get(logout_get).post(logout_post))
}

async fn discovery(State(state): State<AppState>) -> Response {
    let mut algorithms = Vec::new();
    for (alg, name) in [
        (relais_domain::providers::IdTokenAlgorithm::ES256, "ES256"),
        (relais_domain::providers::IdTokenAlgorithm::RS256, "RS256"),
    ] {
        if state.keys().has(alg) {
            algorithms.push(name);
        }
    }
    let document = match state.federation {
        relais_domain::Profile::Citizen => discovery_document(&state.endpoints, &algorithms),
        relais_domain::Profile::Agent => agent_discovery_document(&state.endpoints, &algorithms),
    };
    ([(header::CACHE_CONTROL, "public, max-age=300")], Json(document)).into_response()
}

async fn jwks(State(state): State<AppState>) -> Response {
    ([(header::CACHE_CONTROL, "public, max-age=300")], Json(state.keys().jwks(state.clock.now().0))).into_response()
}

async fn authorize(
    state: AppState,
    locale: Locale,
    headers: HeaderMap,
    raw: RawAuthorizationRequest,
) -> Result<Response, PageError> {
    let (browser, binding_cookie) = browser(&state, &headers);
    let outcome = engine::authorize(&state, &raw, &browser).await?;
    Ok(respond(&state, locale, outcome, binding_cookie))
}

async fn authorize_get(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let raw = RawAuthorizationRequest::parse(query.unwrap_or_default().as_bytes()).map_err(|error| {
        tracing::info!(%error, "authorization request refused");
        PageError::Page(ErrorPage::BadRequest)
    })?;
    authorize(state, locale, headers, raw).await
}

/// A POSTed authorization request is answered with a 303 to the same request as a GET: a
/// cross-site POST carries no `SameSite=Lax` cookie, so only the GET can see the person's
/// session. The form encoding is the query encoding.
async fn authorize_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(PageError::Page(ErrorPage::BadRequest));
    }
    // Read as strictly as a GET, and re-encoded: nothing of the body reaches `Location` raw.
    let pairs = relais_oidc::params::strict_pairs(&body).map_err(|error| {
        tracing::info!(%error, "authorization request refused");
        PageError::Page(ErrorPage::BadRequest)
    })?;
    let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    Ok(see_other(&format!("{}/authorize?{query}", state.endpoints.base_path)))
}

async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<RawTokenRequest>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|_| {
        ApiError::oauth(ErrorCode::InvalidRequest, "the token request must be a form with each parameter once")
    })?;
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let body = engine::token(&state, authorization, &form).await?;
    Ok((no_store(), Json(body)).into_response())
}

async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    let body = engine::userinfo(&state, token).await?;
    Ok((no_store(), Json(body)).into_response())
}

async fn logout(
    state: AppState,
    locale: Locale,
    method: Method,
    headers: HeaderMap,
    params: LogoutParams,
) -> Result<Response, PageError> {
    let (browser, _) = browser(&state, &headers);
    let confirmed = method == Method::POST && params.confirm.is_some();
    let outcome = engine::logout(&state, params, &browser, confirmed).await?;
    Ok(logout_response(&state, &locale, outcome))
}

async fn logout_get(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    headers: HeaderMap,
    query: Result<Query<LogoutParams>, QueryRejection>,
) -> Result<Response, PageError> {
    let Query(params) = query.map_err(|_| PageError::Page(ErrorPage::BadRequest))?;
    logout(state, locale, Method::GET, headers, params).await
}

async fn logout_post(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    headers: HeaderMap,
    form: Result<Form<LogoutParams>, FormRejection>,
) -> Result<Response, PageError> {
    let Form(params) = form.map_err(|_| PageError::Page(ErrorPage::BadRequest))?;
    logout(state, locale, Method::POST, headers, params).await
}

/// The response to a logout step: the session cookie is cleared whenever the session ended.
pub(super) fn logout_response(state: &AppState, locale: &Locale, outcome: LogoutOutcome) -> Response {
    let https = state.settings.is_https();
    let mut response = match outcome {
        LogoutOutcome::Confirm(params) => {
            return (no_store(), state.pages.logout_confirm(locale, &state.endpoints.base_path, &params))
                .into_response()
        }
        LogoutOutcome::Redirect(url) => see_other(&url),
        LogoutOutcome::LoggedOut => state.pages.logged_out(locale).into_response(),
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookies::set(cookies::session(state.federation), "", Some(0), https));
    for (name, value) in no_store() {
        response.headers_mut().insert(name, value);
    }
    response
}
