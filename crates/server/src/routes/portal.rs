//! The partner portal's pages (`/partenaires`).

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use relais_domain::portal::ServiceForm;

use super::{browser, field, form_pairs};
use crate::cookies;
use crate::engine::portal::{self, services, PortalCallback, PortalSession, PORTAL_CALLBACK_PATH, PORTAL_PATH};
use crate::error::{no_store, see_other, ErrorPage, PageError};
use crate::i18n::Locale;
use crate::state::AppState;

/// The signed-in agent's session, or the handler answers with the redirect to sign in.
macro_rules! agent_or_sign_in {
    ($state:expr, $headers:expr) => {
        match crate::routes::portal::signed_in($state, $headers).await? {
            Ok(session) => session,
            Err(to_sign_in) => return Ok(to_sign_in),
        }
    };
}
pub(super) use agent_or_sign_in;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PORTAL_PATH, get(home))
        .route(PORTAL_CALLBACK_PATH, get(callback))
        .route("/partenaires/services/nouveau", get(new_service))
        .route("/partenaires/services", post(declare))
        .route("/partenaires/services/{id}", get(service))
        .route("/partenaires/services/{id}/secret", post(renew_secret))
        .route("/partenaires/services/{id}/qr.svg", get(qr_svg))
        .route("/partenaires/services/{id}/qr.png", get(qr_png))
        .route("/partenaires/deconnexion", post(sign_out))
}

pub(super) fn session_id(state: &AppState, headers: &HeaderMap) -> Option<String> {
    cookies::read(headers, cookies::PORTAL, state.settings.is_https())
}

/// The session of a form sent: signed in, in this browser, with the form's token; and its id.
pub(super) async fn form_session(
    state: &AppState,
    headers: &HeaderMap,
    pairs: &[(String, String)],
) -> Result<(PortalSession, Option<String>), PageError> {
    let (browser, _) = browser(state, headers);
    let id = session_id(state, headers);
    let session = portal::checked(state, id.as_deref(), &browser, field(pairs, "csrf")).await?;
    Ok((session, id))
}

/// The signed-in agent's session, or the redirect to sign in.
pub(super) async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Result<PortalSession, Response>, PageError> {
    let (browser, binding_cookie) = browser(state, headers);
    if let Some(session) = portal::session(state, session_id(state, headers).as_deref(), &browser).await? {
        return Ok(Ok(session));
    }
    let mut response = see_other(&portal::start_sign_in(state, &browser).await?);
    if let Some(cookie) = binding_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(Err(response))
}

async fn home(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let session = agent_or_sign_in!(&state, &headers);
    let list = services::list(&state, &session).await?;
    Ok((no_store(), state.pages.portal_home(&locale, &session, &list)).into_response())
}

async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<PortalCallback>, QueryRejection>,
) -> Result<Response, PageError> {
    let Query(callback) = query.map_err(|_| PageError::Page(ErrorPage::BadRequest))?;
    let (browser, _) = browser(&state, &headers);
    let session_id = portal::callback(&state, &callback, &browser).await?;
    let mut response = see_other(PORTAL_PATH);
    let lifetime = Some(portal::PORTAL_SESSION_LIFETIME);
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookies::set(cookies::PORTAL, &session_id, lifetime, state.settings.is_https()));
    Ok(response)
}

async fn new_service(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let session = agent_or_sign_in!(&state, &headers);
    let form = ServiceForm { eidas_level: "eidas1".into(), ..Default::default() };
    let offered = services::offered(&state).await?;
    Ok((no_store(), state.pages.portal_new_service(&locale, &session, &form, &offered, &[])).into_response())
}

async fn declare(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let pairs = form_pairs(&body);
    let (mut session, id) = form_session(&state, &headers, &pairs).await?;
    let form = ServiceForm {
        name: field(&pairs, "name").to_owned(),
        site: field(&pairs, "site").to_owned(),
        initiate_login_uri: field(&pairs, "initiate_login_uri").to_owned(),
        redirect_uris: field(&pairs, "redirect_uris").to_owned(),
        post_logout_redirect_uris: field(&pairs, "post_logout_redirect_uris").to_owned(),
        claims: pairs.iter().filter(|(key, _)| key == "claims").map(|(_, value)| value.clone()).collect(),
        data: pairs.iter().filter(|(key, _)| key == "data").map(|(_, value)| value.clone()).collect(),
        eidas_level: field(&pairs, "eidas_level").to_owned(),
    };
    match services::declare(&state, &session, &form).await? {
        Ok((service_id, secret)) => {
            session.shown_once = Some((service_id.clone(), secret));
            if let Some(id) = &id {
                portal::save(&state, id, &session).await?;
            }
            Ok(see_other(&format!("{PORTAL_PATH}/services/{service_id}")))
        }
        Err(errors) => {
            let offered = services::offered(&state).await?;
            let page = state.pages.portal_new_service(&locale, &session, &form, &offered, &errors);
            Ok((StatusCode::BAD_REQUEST, no_store(), page).into_response())
        }
    }
}

async fn service(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    headers: HeaderMap,
    Path(service_id): Path<String>,
) -> Result<Response, PageError> {
    let session = agent_or_sign_in!(&state, &headers);
    service_page(&state, &locale, &headers, session, &service_id, &[]).await
}

/// A service's page for the agent of `session`, with what is wrong in the form they sent (a
/// `400` then).
pub(super) async fn service_page(
    state: &AppState,
    locale: &Locale,
    headers: &HeaderMap,
    mut session: PortalSession,
    service_id: &str,
    errors: &[relais_domain::portal::FieldError],
) -> Result<Response, PageError> {
    let (service, role) = services::member_service(state, &session, service_id).await?;
    // The secret is shown on this page once, then forgotten.
    let production_key = format!("{}:production", service.id);
    let (secret, production_secret) = match session.shown_once.take() {
        Some((key, secret)) if key == service.id => (Some(secret), None),
        Some((key, secret)) if key == production_key => (None, Some(secret)),
        other => {
            session.shown_once = other;
            (None, None)
        }
    };
    if secret.is_some() || production_secret.is_some() {
        if let Some(id) = session_id(state, headers) {
            portal::save(state, &id, &session).await?;
        }
    }
    let issuer = state.endpoints.issuer.clone();
    let samples = services::samples(&issuer, &service);
    let requests = state.portal.requests_of(&service.id).await?;
    let page = crate::pages::ServicePage {
        service: &service,
        requests: &requests,
        secret: secret.as_deref(),
        production_secret: production_secret.as_deref(),
        issuer: &issuer,
        samples: &samples,
        role,
        errors,
    };
    let page = state.pages.portal_service(locale, &session, &page);
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    Ok((status, no_store(), page).into_response())
}

async fn renew_secret(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(service_id): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let pairs = form_pairs(&body);
    let (mut session, id) = form_session(&state, &headers, &pairs).await?;
    let production = field(&pairs, "client") == "production";
    let secret = services::renew_secret(&state, &session, &service_id, production).await?;
    let key = if production { format!("{service_id}:production") } else { service_id.clone() };
    session.shown_once = Some((key, secret));
    if let Some(id) = &id {
        portal::save(&state, id, &session).await?;
    }
    Ok(see_other(&format!("{PORTAL_PATH}/services/{service_id}")))
}

async fn qr(state: &AppState, headers: &HeaderMap, service_id: &str) -> Result<Result<String, Response>, PageError> {
    let session = match signed_in(state, headers).await? {
        Ok(session) => session,
        Err(to_sign_in) => return Ok(Err(to_sign_in)),
    };
    let service = services::service(state, &session, service_id).await?;
    Ok(Ok(service.settings(relais_domain::portal::team::Environment::Sandbox).initiate_login_uri))
}

async fn qr_svg(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let address = match qr(&state, &headers, &id).await? {
        Ok(address) => address,
        Err(to_sign_in) => return Ok(to_sign_in),
    };
    let svg = services::qr_svg(&address)?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"))], no_store(), svg).into_response())
}

async fn qr_png(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let address = match qr(&state, &headers, &id).await? {
        Ok(address) => address,
        Err(to_sign_in) => return Ok(to_sign_in),
    };
    let png = services::qr_png(&address)?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("image/png"))], no_store(), png).into_response())
}

async fn sign_out(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    portal::sign_out(&state, session_id(&state, &headers).as_deref()).await?;
    let mut response = state.pages.logged_out(&locale).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookies::set(cookies::PORTAL, "", Some(0), state.settings.is_https()));
    Ok(response)
}
