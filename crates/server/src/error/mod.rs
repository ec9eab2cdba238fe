//! Errors become responses here, by audience: the person's pages ([`PageError`]: an error page
//! in their language, or the OAuth error sent back to the service), and the machines' JSON
//! endpoints ([`ApiError`]: token, userinfo, checktoken). The audience decides the format, not
//! the call site: a storage outage is a 503 page for a person and a JSON
//! `temporarily_unavailable` for a client. OAuth error codes and their HTTP mapping live in
//! [`oauth`]. Internals go to the log, never to the response.

mod api;
pub mod oauth;
mod page;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

pub use api::ApiError;
pub use page::{ErrorPage, PageError, ReturnToService};

/// `Cache-Control: no-store` and `Pragma: no-cache`, for every response carrying tokens.
pub fn no_store() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

/// A 303 redirect (after a POST, the browser must GET the target). A target that cannot be a
/// header value (a control character) is a bad request, never a panic.
pub fn see_other(url: &str) -> Response {
    match HeaderValue::from_str(url) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => PageError::Page(ErrorPage::BadRequest).into_response(),
    }
}
