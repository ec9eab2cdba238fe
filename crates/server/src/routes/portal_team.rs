//! The partner portal's team and configuration forms, on a service's page: an admin invites or
//! removes members (`/equipe`); a member writes a draft of a client's addresses, a tech or an
//! admin publishes it or restores an archived version (`/configuration`). A refusal shows the
//! service's page again with what is wrong (`400`), and changes nothing.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use axum::{Extension, Router};
use relais_domain::portal::team::Environment;
use relais_domain::portal::FieldError;

use super::portal::{form_session, service_page};
use super::{field, form_pairs};
use crate::engine::portal::{team, PORTAL_PATH};
use crate::error::{see_other, ErrorPage, PageError};
use crate::i18n::Locale;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/partenaires/services/{id}/equipe", post(change_team))
        .route("/partenaires/services/{id}/configuration", post(change_configuration))
}

async fn change_team(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    headers: HeaderMap,
    Path(service_id): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let pairs = form_pairs(&body);
    let (session, _) = form_session(&state, &headers, &pairs).await?;
    let email = field(&pairs, "email");
    let done = match field(&pairs, "action") {
        "inviter" => team::invite(&state, &session, &service_id, email, field(&pairs, "role")).await?,
        "retirer" => team::remove(&state, &session, &service_id, email).await?,
        _ => return Err(PageError::Page(ErrorPage::BadRequest)),
    };
    match done {
        Ok(()) => Ok(see_other(&format!("{PORTAL_PATH}/services/{service_id}#equipe"))),
        Err(refused) => service_page(&state, &locale, &headers, session, &service_id, &[refused]).await,
    }
}

async fn change_configuration(
    State(state): State<AppState>,
    Extension(locale): Extension<Locale>,
    headers: HeaderMap,
    Path(service_id): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let pairs = form_pairs(&body);
    let (session, _) = form_session(&state, &headers, &pairs).await?;
    let environment = Environment::of(field(&pairs, "environment")).ok_or(PageError::Page(ErrorPage::BadRequest))?;
    let done: Result<(), Vec<FieldError>> = match field(&pairs, "action") {
        "brouillon" => {
            let addresses = (
                field(&pairs, "initiate_login_uri"),
                field(&pairs, "redirect_uris"),
                field(&pairs, "post_logout_redirect_uris"),
            );
            team::write_draft(&state, &session, &service_id, environment, addresses).await?
        }
        "publier" => {
            let number =
                field(&pairs, "version").parse::<u32>().map_err(|_| FieldError { field: "version", key: "no_version" });
            match number {
                Ok(number) => {
                    team::publish(&state, &session, &service_id, environment, number).await?.map_err(|e| vec![e])
                }
                Err(wrong) => Err(vec![wrong]),
            }
        }
        _ => return Err(PageError::Page(ErrorPage::BadRequest)),
    };
    match done {
        Ok(()) => Ok(see_other(&format!("{PORTAL_PATH}/services/{service_id}#configuration"))),
        Err(errors) => service_page(&state, &locale, &headers, session, &service_id, &errors).await,
    }
}
