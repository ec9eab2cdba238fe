//! The routers, one per audience: the service providers' OpenID Connect endpoints, the
//! identity providers' callbacks, the person's pages, and health.

mod dashboard;
mod dp;
mod idp;
mod person;
mod sp;

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{middleware, Router};
use relais_oidc::random::{digest, random_token};

use crate::context::request_context;
use crate::cookies;
use crate::engine::{Browser, Next, Outcome};
use crate::error::{no_store, see_other};
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(sp::router())
        .merge(idp::router())
        .merge(person::router())
        .merge(dp::router())
        .merge(dashboard::router())
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
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

/// The pairs of a form body, repeated names kept (checkbox lists).
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// The browser of a request, and the binding cookie to set when it had none.
fn browser(state: &AppState, headers: &HeaderMap) -> (Browser, Option<HeaderValue>) {
    let https = state.settings.is_https();
    let session_id = cookies::read(headers, cookies::SESSION, https);
    match cookies::read(headers, cookies::BROWSER, https) {
        Some(binding) => (Browser { binding: digest(&binding), session_id }, None),
        None => {
            let binding = random_token();
            let cookie = cookies::set(cookies::BROWSER, &binding, None, https);
            (Browser { binding: digest(&binding), session_id }, Some(cookie))
        }
    }
}

/// The response to a step of the flow.
fn respond(state: &AppState, outcome: Outcome, binding_cookie: Option<HeaderValue>) -> Response {
    let mut response = match outcome.next {
        Next::Redirect(url) => see_other(&url),
        Next::Choice { flow, service, idps } => state.pages.choice(&flow, &service, &idps).into_response(),
    };
    let https = state.settings.is_https();
    let headers = response.headers_mut();
    if let Some(cookie) = binding_cookie {
        headers.append(header::SET_COOKIE, cookie);
    }
    if let Some(session_id) = outcome.new_session {
        headers.append(
            header::SET_COOKIE,
            cookies::set(cookies::SESSION, &session_id, Some(state.settings.session_lifetime), https),
        );
    }
    for (name, value) in no_store() {
        headers.insert(name, value);
    }
    response
}
