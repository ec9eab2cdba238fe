//! Per-request context: a request id (in the logs, the `x-request-id` header and every error
//! page, so a person can quote it to support), the language of the pages, the security
//! headers, and the rendering of error pages, which needs both.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use relais_oidc::{ErrorCode, OAuthError};
use tracing::Instrument;

use crate::error::ErrorPage;
use crate::i18n::Locale;
use crate::state::AppState;

/// The Content-Security-Policy of every response: only the hub's own style sheet, scripts
/// (external files, no inline script or style attribute), fonts and images (and the `data:`
/// images of the DSFR's style sheet); never framed. `form-action` is left open on purpose:
/// browsers apply it to the redirects that follow a form post, and the choice form's answer
/// is a redirect to the identity provider the person chose.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Whether `request` changes the person's state from a page of another site: a `POST` to the
/// choice, the consent, the dashboard, the agents' e-mail page or the partner portal whose
/// `Origin` is not the hub's (`SameSite=Lax` keeps
/// the cookies off such posts; this refuses them outright). Posts other sites may make by
/// design (an authorization request, RP-initiated logout) are not concerned.
fn is_cross_site_post(request: &Request, state: &AppState) -> bool {
    let path = request.uri().path();
    let person_form = ["/interaction/", "/consentement/", "/tableau-de-bord/", "/agents/interaction/", "/partenaires/"]
        .iter()
        .any(|p| path.starts_with(p));
    if request.method() != axum::http::Method::POST || !person_form {
        return false;
    }
    let headers = request.headers();
    // Fetch Metadata first: browsers send it whatever the referrer policy.
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    // Else the origin; the hub's pages say `Referrer-Policy: no-referrer`, under which a
    // browser sends `Origin: null` for its own form posts, so `null` is not a verdict.
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None | Some("null") => false,
        Some(origin) => origin != state.settings.issuer.origin().ascii_serialization(),
    }
}

/// The endpoints machines call: their errors are JSON, never a page.
fn is_machine_endpoint(path: &str) -> bool {
    matches!(path, "/token" | "/userinfo" | "/checktoken" | "/metrics" | "/traces/checkpoint")
}

/// A rejection made by the framework rather than the hub (a body over the size limit, a path
/// that is not UTF-8, a wrong content type: plain text written for developers) becomes the
/// hub's own answer, a page or the spec's JSON, with the same status.
fn framework_rejection(response: &Response, machine: bool) -> Option<Response> {
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    // Plain text is the framework's; no body at all (a 405) is too, except on the machines'
    // endpoints, where a bare 401 is RFC 6750's challenge.
    let foreign = match content_type {
        Some(kind) => kind.starts_with("text/plain"),
        None => !machine,
    };
    let error = status.is_client_error() || status.is_server_error();
    if !error || !foreign || response.extensions().get::<ErrorPage>().is_some() {
        return None;
    }
    tracing::info!(status = status.as_u16(), "request rejected before the hub could read it");
    let mut replaced = if machine {
        let code = if status.is_server_error() { ErrorCode::ServerError } else { ErrorCode::InvalidRequest };
        crate::error::oauth::json_error(&OAuthError::new(code, "the request could not be read"), false)
    } else {
        let page = match status {
            StatusCode::NOT_FOUND => ErrorPage::NotFound,
            status if status.is_server_error() => ErrorPage::TemporarilyUnavailable,
            _ => ErrorPage::BadRequest,
        };
        let mut page_response = status.into_response();
        page_response.extensions_mut().insert(page);
        page_response
    };
    *replaced.status_mut() = status;
    Some(replaced)
}

/// Wraps every request: id, language, tracing span, error page, headers.
pub async fn request_context(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let locale = Locale::of(&request, state.settings.is_https());
    request.extensions_mut().insert(locale.clone());
    let span =
        tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path());
    let started = std::time::Instant::now();
    let method = request.method().clone();
    // The route's pattern, never its values: a path or query can carry a flow id or a code.
    // (A shared pointer: no copy of the text on every request.)
    let route = request.extensions().get::<MatchedPath>().cloned();
    let path = request.uri().path();
    let (machine, health) = (is_machine_endpoint(path), matches!(path, "/healthz" | "/readyz"));
    let access_span = span.clone();
    let mut response = if is_cross_site_post(&request, &state) {
        tracing::warn!(parent: &span, "state-changing post from another site refused");
        let mut refused = StatusCode::FORBIDDEN.into_response();
        refused.extensions_mut().insert(ErrorPage::BadRequest);
        refused
    } else {
        next.run(request).instrument(span).await
    };
    if let Some(replaced) = framework_rejection(&response, machine).filter(|_| !health) {
        response = replaced;
    }
    if let Some(page) = response.extensions_mut().remove::<ErrorPage>() {
        let status = response.status();
        let back = response.extensions_mut().remove::<crate::error::ReturnToService>();
        let mut rendered = state.pages.error(&locale, &page, &id, back.as_ref().map(|b| b.0.as_str())).into_response();
        *rendered.status_mut() = status;
        for (name, value) in response.headers() {
            if name == header::SET_COOKIE || name == header::RETRY_AFTER {
                rendered.headers_mut().append(name, value.clone());
            }
        }
        for (name, value) in crate::error::no_store() {
            rendered.headers_mut().insert(name, value);
        }
        response = rendered;
    }
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert("x-request-id", value);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    headers.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=()"));
    if state.settings.is_https() {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=63072000"));
    }
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = response.status().as_u16();
    let route = route.as_ref().map_or("(unmatched)", MatchedPath::as_str);
    tracing::info!(target: "relais::access", parent: &access_span, %method, route, status, duration_ms, "request");
    response
}
