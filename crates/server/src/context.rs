//! Per-request context: a request id (in the logs, the `x-request-id` header and every error
//! page, so a person can quote it to support), the security headers, and the rendering of
//! error pages, which needs that id.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::error::ErrorPage;
use crate::state::AppState;

/// Wraps every request: id, tracing span, error page, headers.
pub async fn request_context(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let span =
        tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path());
    let mut response = next.run(request).instrument(span).await;
    if let Some(page) = response.extensions_mut().remove::<ErrorPage>() {
        let status = response.status();
        let mut rendered = state.pages.error(&page, &id).into_response();
        *rendered.status_mut() = status;
        for (name, value) in response.headers() {
            if name == header::SET_COOKIE || name == header::RETRY_AFTER {
                rendered.headers_mut().append(name, value.clone());
            }
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
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    if state.settings.is_https() {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=63072000"));
    }
    response
}
