//! The routers, one per audience: the service providers' OpenID Connect endpoints, the
//! identity providers' callbacks, the person's pages, and health.

mod agents;
mod catalogue;
mod dashboard;
mod dp;
mod idp;
mod person;
mod portal;
mod portal_requests;
mod portal_team;
mod sp;
#[cfg(test)]
mod tests;

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{middleware, Router};
use relais_oidc::random::{digest_of, random_token};

use crate::context::request_context;
use crate::cookies;
use crate::engine::{Browser, Next, Outcome};
use crate::error::{no_store, see_other};
use crate::i18n::Locale;
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .nest("/agents", agents::router().with_state(state.agents()))
        .merge(sp::router())
        .merge(idp::router())
        .merge(person::router())
        .merge(dp::router())
        .merge(dashboard::router())
        .merge(catalogue::router())
        .merge(crate::admin::router())
        .merge(portal::router())
        .merge(portal_requests::router())
        .merge(portal_team::router())
        .route("/", get(home))
        .route("/langue", get(switch_language))
        .route(&format!("{}/{{*path}}", crate::assets::DSFR_PREFIX), get(crate::assets::dsfr))
        .fallback(|| async { crate::error::PageError::Page(crate::error::ErrorPage::NotFound) })
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(middleware::from_fn_with_state(state.clone(), request_context))
        .with_state(state)
}

/// Ready when the registry database and the ephemeral store both answer; a load balancer
/// sends no one to a node that would fail closed.
async fn readyz(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    match state.ready().await {
        Ok(()) => (no_store(), "ready").into_response(),
        Err(error) => {
            tracing::warn!(%error, "not ready");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, no_store(), "not ready").into_response()
        }
    }
}

/// Prometheus' scrape, with the bearer token `hub.metrics_token` (no token configured: no
/// such page).
async fn metrics(axum::extract::State(state): axum::extract::State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = &state.settings.metrics_token else {
        return crate::error::PageError::Page(crate::error::ErrorPage::NotFound).into_response();
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    // Digests compared: the time taken says nothing of the token.
    if presented.map(relais_oidc::random::digest) != Some(relais_oidc::random::digest(expected.expose())) {
        let error = match presented {
            None => crate::error::ApiError::BearerMissing,
            Some(_) => crate::error::ApiError::Bearer(relais_oidc::OAuthError::new(
                relais_oidc::ErrorCode::InvalidToken,
                "not the metrics token",
            )),
        };
        return error.into_response();
    }
    let text = state.metrics().encode(state.clock.now(), state.settings.session_lifetime);
    let content_type = HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8");
    (no_store(), [(header::CONTENT_TYPE, content_type)], text).into_response()
}

/// The hub's home page.
async fn home(
    axum::extract::State(state): axum::extract::State<AppState>,
    axum::Extension(locale): axum::Extension<Locale>,
) -> Response {
    state.pages.home(&locale).into_response()
}

#[derive(serde::Deserialize)]
struct Switch {
    lang: Option<String>,
    retour: Option<String>,
}

/// The language switch of every page: a plain link (works without JavaScript) that keeps the
/// chosen language in a cookie and goes back to the page it was on.
async fn switch_language(
    axum::extract::State(state): axum::extract::State<AppState>,
    query: Result<axum::extract::Query<Switch>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let switch = query.map(|q| q.0).unwrap_or(Switch { lang: None, retour: None });
    let target = switch.retour.as_deref().and_then(crate::i18n::local_path).unwrap_or_else(|| "/".to_owned());
    let mut response = see_other(&target);
    if let Some(lang) = switch.lang.as_deref().and_then(crate::i18n::Lang::from_tag) {
        let cookie =
            cookies::set(crate::i18n::LANG_COOKIE, lang.code(), Some(cookies::YEAR), state.settings.is_https());
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    for (name, value) in no_store() {
        response.headers_mut().insert(name, value);
    }
    response
}

/// The value of the form field `name` (empty when absent).
fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str()).unwrap_or_default()
}

/// The pairs of a form body, repeated names kept (checkbox lists).
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// The browser of a request, and the binding cookie to set when it had none (or one the hub
/// cannot have made: only a 256-bit random token of its own form binds a browser).
fn browser(state: &AppState, headers: &HeaderMap) -> (Browser, Option<HeaderValue>) {
    let https = state.settings.is_https();
    let session_id = cookies::read(headers, cookies::session(state.federation), https);
    let last_idp = cookies::read(headers, cookies::LAST_IDP, https);
    match cookies::read(headers, cookies::BROWSER, https).filter(|value| relais_oidc::random::is_random_token(value)) {
        Some(binding) => (Browser { binding: digest_of(&binding), session_id, last_idp }, None),
        None => {
            let binding = random_token();
            let cookie = cookies::set(cookies::BROWSER, &binding, None, https);
            (Browser { binding: digest_of(&binding), session_id, last_idp }, Some(cookie))
        }
    }
}

/// The response to a step of the flow.
fn respond(state: &AppState, locale: Locale, outcome: Outcome, binding_cookie: Option<HeaderValue>) -> Response {
    let https = state.settings.is_https();
    let mut last_idp = None;
    let mut response = match outcome.next {
        Next::Redirect(url) => see_other(&url),
        Next::ToIdp { url, idp } => {
            last_idp =
                cookies::is_token(&idp).then(|| cookies::set(cookies::LAST_IDP, &idp, Some(cookies::YEAR), https));
            see_other(&url)
        }
        Next::Choice { flow, service, idps, ui_locales, failed } => {
            let locale = locale.with_ui_locales(ui_locales.as_deref());
            let base = &state.endpoints.base_path;
            state.pages.choice(&locale, base, &flow, &service, &idps, failed.as_deref()).into_response()
        }
        Next::AgentEmail { flow, service, ui_locales, email, problem } => {
            let locale = locale.with_ui_locales(ui_locales.as_deref());
            let base = &state.endpoints.base_path;
            let page = state.pages.agent_email(&locale, base, &flow, &service, email.as_deref(), problem);
            let mut response = page.into_response();
            if problem.is_some() {
                *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            }
            response
        }
    };
    let headers = response.headers_mut();
    if let Some(cookie) = last_idp {
        headers.append(header::SET_COOKIE, cookie);
    }
    if let Some(cookie) = binding_cookie {
        headers.append(header::SET_COOKIE, cookie);
    }
    if let Some(session_id) = outcome.new_session {
        headers.append(
            header::SET_COOKIE,
            cookies::set(cookies::session(state.federation), &session_id, Some(state.settings.session_lifetime), https),
        );
    }
    for (name, value) in no_store() {
        headers.insert(name, value);
    }
    response
}
