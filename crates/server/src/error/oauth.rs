//! The one place OAuth errors are mapped to HTTP: the JSON answer of a direct call and its
//! status (RFC 6749, section 5.2), the bearer challenge (RFC 6750, section 3), and the error
//! redirect to a trusted redirect URI (RFC 6749, section 4.1.2.1, with `iss`, RFC 9207).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use relais_oidc::{ErrorCode, OAuthError};
use serde_json::json;
use url::Url;

/// The HTTP status of an OAuth error answered directly.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// The JSON answer to a direct call; `basic`: the caller used HTTP Basic, so a 401 carries
/// its challenge. A 503 says when to come back.
pub fn json_error(error: &OAuthError, basic: bool) -> Response {
    let status = status_of(error.code);
    let mut response = (
        status,
        super::no_store(),
        Json(json!({"error": error.code.as_str(), "error_description": error.description})),
    )
        .into_response();
    if basic && status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"relais\""));
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
    }
    response
}

/// A bearer token refused (`Some`) or missing (`None`, a challenge without an error code).
pub fn bearer_error(error: Option<&OAuthError>) -> Response {
    let Some(error) = error else {
        let mut response = StatusCode::UNAUTHORIZED.into_response();
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"relais\""));
        return response;
    };
    let challenge = format!("Bearer error=\"{}\", error_description=\"{}\"", error.code.as_str(), error.description);
    let mut response =
        (StatusCode::UNAUTHORIZED, Json(json!({"error": error.code.as_str(), "error_description": error.description})))
            .into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// The SP's redirect URI with `params` and the hub's `iss` (RFC 9207) added; `None` if the URI
/// does not parse (it was registered, so it always does).
pub fn redirect_with(issuer: &str, redirect_uri: &str, params: &[(&str, &str)]) -> Option<String> {
    let mut url = Url::parse(redirect_uri).ok()?;
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            query.append_pair(name, value);
        }
        query.append_pair("iss", issuer);
    }
    Some(url.to_string())
}

/// The error redirect of an authorization request: `error`, `error_description`, the SP's
/// `state` when it sent one, and `iss`.
pub fn error_redirect(issuer: &str, redirect_uri: &str, sp_state: Option<&str>, error: &OAuthError) -> Option<String> {
    let mut params = vec![("error", error.code.as_str()), ("error_description", error.description.as_str())];
    if let Some(value) = sp_state {
        params.push(("state", value));
    }
    redirect_with(issuer, redirect_uri, &params)
}
