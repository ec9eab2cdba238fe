//! Back to the service provider: with a code, or with an OAuth error when its redirect URI is
//! trusted (registered, so the error can go back to it).

use relais_domain::flow::AuthorizationRequest;
use relais_oidc::{ErrorCode, OAuthError};

use crate::error::{oauth, ErrorPage, PageError};
use crate::state::AppState;

/// The URL sending `code` to the service of `request`, with its `state` and the hub's `iss`.
pub fn with_code(state: &AppState, request: &AuthorizationRequest, code: &str) -> Result<String, PageError> {
    let params = [("code", code), ("state", request.state.as_str())];
    oauth::redirect_with(&state.endpoints.issuer, request.redirect_uri.as_str(), &params)
        .ok_or(PageError::Page(ErrorPage::UnregisteredRedirect))
}

/// The error `code` with `description` sent back to the redirect URI `redirect_uri`, echoing
/// `sp_state` when there is one.
pub fn refuse_to(
    state: &AppState,
    redirect_uri: &str,
    sp_state: Option<&str>,
    code: ErrorCode,
    description: impl Into<String>,
) -> PageError {
    let error = OAuthError::new(code, description);
    match oauth::error_redirect(&state.endpoints.issuer, redirect_uri, sp_state, &error) {
        Some(url) => PageError::ToService(url),
        None => PageError::Page(ErrorPage::UnregisteredRedirect),
    }
}

/// `page` for the person, with the way back to the service of `request`: its redirect URI with
/// `access_denied` (the sign-in did not complete), should they follow it.
pub fn page_with_return(state: &AppState, request: &AuthorizationRequest, page: ErrorPage) -> PageError {
    let error = OAuthError::new(ErrorCode::AccessDenied, "the sign-in could not be completed");
    let back = oauth::error_redirect(
        &state.endpoints.issuer,
        request.redirect_uri.as_str(),
        Some(request.state.as_str()),
        &error,
    );
    match back {
        Some(url) => PageError::PageWithReturn(page, url),
        None => PageError::Page(page),
    }
}

/// The error `code` with `description` sent back to the service of `request`.
pub fn refuse(
    state: &AppState,
    request: &AuthorizationRequest,
    code: ErrorCode,
    description: impl Into<String>,
) -> PageError {
    refuse_to(state, request.redirect_uri.as_str(), Some(request.state.as_str()), code, description)
}
