//! The person's dashboard pages.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};

use super::{browser, field, form_pairs};
use relais_domain::preferences::NewAccounts;

use crate::cookies;
use crate::engine::dashboard::moving::{self, Confirmation, MOVING_PATH};
use crate::engine::dashboard::{
    self, DashboardCallback, DASHBOARD_CALLBACK_PATH, DASHBOARD_PATH, DASHBOARD_SESSION_LIFETIME,
};
use crate::error::{no_store, see_other, ErrorPage, PageError};
use crate::i18n::Locale;
use crate::state::AppState;

pub fn router() -> axum::Router<AppState> {
    Router::new()
        .route(DASHBOARD_PATH, get(page))
        .route(DASHBOARD_CALLBACK_PATH, get(callback))
        .route("/tableau-de-bord/comptes", post(accounts))
        .route("/tableau-de-bord/deconnexion", post(sign_out))
        .route(MOVING_PATH, get(moving_page).post(moving_search))
        .route("/tableau-de-bord/demenagement/confirmer", post(moving_confirm))
}

fn session_id(state: &AppState, headers: &HeaderMap) -> Option<String> {
    cookies::read(headers, cookies::DASHBOARD, state.settings.is_https())
}

async fn page(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (browser, binding_cookie) = browser(&state, &headers);
    let mut response = match dashboard::view(&state, session_id(&state, &headers).as_deref(), &browser).await? {
        Some(view) => (no_store(), state.pages.dashboard(&locale, &view)).into_response(),
        None => see_other(&dashboard::start_sign_in(&state, &browser).await?),
    };
    if let Some(cookie) = binding_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<DashboardCallback>, QueryRejection>,
) -> Result<Response, PageError> {
    let Query(callback) = query.map_err(|_| PageError::Page(ErrorPage::BadRequest))?;
    let (browser, _) = browser(&state, &headers);
    let session_id = dashboard::callback(&state, &callback, &browser).await?;
    let mut response = see_other(DASHBOARD_PATH);
    let cookie =
        cookies::set(cookies::DASHBOARD, &session_id, Some(DASHBOARD_SESSION_LIFETIME), state.settings.is_https());
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

async fn accounts(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, PageError> {
    let (browser, _) = browser(&state, &headers);
    let pairs = form_pairs(&body);
    let csrf = field(&pairs, "csrf");
    let blocked: Vec<String> = pairs.iter().filter(|(k, _)| k == "bloquer").map(|(_, v)| v.clone()).collect();
    let new_accounts = match pairs.iter().find(|(k, _)| k == "nouveaux").map(|(_, v)| v.as_str()) {
        Some("bloquer") => NewAccounts::Blocked,
        _ => NewAccounts::Allowed,
    };
    let session = session_id(&state, &headers);
    dashboard::set_blocked(&state, session.as_deref(), &browser, csrf, &blocked, new_accounts).await?;
    Ok(see_other(DASHBOARD_PATH))
}

async fn sign_out(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    dashboard::sign_out(&state, session_id(&state, &headers).as_deref()).await?;
    let mut response = state.pages.logged_out(&locale).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookies::set(cookies::DASHBOARD, "", Some(0), state.settings.is_https()));
    Ok(response)
}

async fn moving_page(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    moving_view(&state, &locale, &headers, None).await
}

/// The search is posted, so that the address searched is in no URL (nor in any access log).
async fn moving_search(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let pairs = form_pairs(&body);
    let csrf_ok =
        dashboard::csrf_matches(&state, session_id(&state, &headers).as_deref(), field(&pairs, "csrf")).await?;
    if !csrf_ok {
        return Err(PageError::Page(ErrorPage::BadRequest));
    }
    moving_view(&state, &locale, &headers, Some(field(&pairs, "adresse"))).await
}

async fn moving_view(
    state: &AppState,
    locale: &Locale,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Response, PageError> {
    let (browser, binding_cookie) = browser(state, headers);
    let mut response = match moving::view(state, session_id(state, headers).as_deref(), &browser, query).await? {
        Some(view) => (no_store(), state.pages.moving(locale, &view)).into_response(),
        None => see_other(DASHBOARD_PATH),
    };
    if let Some(cookie) = binding_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

async fn moving_confirm(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, PageError> {
    let (browser, _) = browser(&state, &headers);
    let pairs = form_pairs(&body);
    let recipients: Vec<String> = pairs.iter().filter(|(k, _)| k == "administration").map(|(_, v)| v.clone()).collect();
    let confirmation =
        Confirmation { csrf: field(&pairs, "csrf"), address: field(&pairs, "adresse"), recipients: &recipients };
    let session = session_id(&state, &headers);
    let notice = moving::confirm(&state, session.as_deref(), &browser, &confirmation).await?;
    Ok(see_other(if notice.is_refusal() { MOVING_PATH } else { "/tableau-de-bord#demenagements" }))
}
