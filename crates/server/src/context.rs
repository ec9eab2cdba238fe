//! Per-request context: a request id (in the logs, the `x-request-id` header and every error
//! page, so a person can quote it to support), the language of the pages, the security
//! headers, and the rendering of error pages, which needs both.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
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

/// Wraps every request: id, language, tracing span, error page, headers.
pub async fn request_context(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let locale = Locale::of(&request, state.settings.is_https());
    request.extensions_mut().insert(locale.clone());
    let span =
        tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path());
    let mut response = next.run(request).instrument(span).await;
    if let Some(page) = response.extensions_mut().remove::<ErrorPage>() {
        let status = response.status();
        let mut rendered = state.pages.error(&locale, &page, &id).into_response();
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
    response
}
