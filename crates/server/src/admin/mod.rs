//! The operator admin API, under `/api/admin/`: the registry's service providers, identity
//! providers, data providers and habilitations, and the signing keys, read and written in JSON
//! by an operator credential (`[[operators]]`, a bearer token) or an agent with the operator
//! role (a token they made on the portal, for a working day). Every write goes through the
//! same registration rules as the configuration file, is refused whole or done whole, reaches
//! this node at once and the others within the registry cache's lifetime, and is traced in the
//! hash chain with its author. The actors declared in the configuration file are read-only
//! here (the file wins at each reload: a change made here would be undone silently).
//!
//! The OpenAPI 3.1 document at `/api/openapi.json` is generated from these handlers by
//! `utoipa` (the de facto crate for it with axum: derive macros on the handlers and bodies, so
//! the document cannot drift from the code).

mod bodies;
mod data_providers;
mod error;
mod habilitation_requests;
mod habilitations;
mod identity_providers;
mod keys;
mod service_providers;
#[cfg(test)]
mod tests;
mod webhooks;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use relais_domain::ids::ActorRef;
use relais_domain::step::StepEvent;
use relais_store::Source;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

pub use error::{in_language, AdminError, ErrorBody, Said};

use crate::error::no_store;
use crate::state::AppState;

/// The admin API's routes and its OpenAPI document.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/admin/service-providers", get(service_providers::list))
        .route(
            "/api/admin/service-providers/{client_id}",
            get(service_providers::one).put(service_providers::put).delete(service_providers::remove),
        )
        .route("/api/admin/service-providers/{client_id}/client-secret", post(service_providers::renew_secret))
        .route("/api/admin/identity-providers", get(identity_providers::list))
        .route(
            "/api/admin/identity-providers/{id}",
            get(identity_providers::one).put(identity_providers::put).delete(identity_providers::remove),
        )
        .route("/api/admin/data-providers", get(data_providers::list))
        .route(
            "/api/admin/data-providers/{id}",
            get(data_providers::one).put(data_providers::put).delete(data_providers::remove),
        )
        .route("/api/admin/data-providers/{id}/client-secret", post(data_providers::renew_secret))
        .route("/api/admin/habilitations", get(habilitations::list))
        .route(
            "/api/admin/habilitations/{id}",
            get(habilitations::one).put(habilitations::put).delete(habilitations::remove),
        )
        .route("/api/admin/habilitation-requests", get(habilitation_requests::list))
        .route("/api/admin/habilitation-requests/{id}", get(habilitation_requests::one))
        .route("/api/admin/habilitation-requests/{id}/decision", post(habilitation_requests::decide))
        .route("/api/admin/keys", get(keys::list))
        .route("/api/admin/keys/rotation", post(keys::rotate))
        .route("/api/admin/webhooks", get(webhooks::list))
        .route("/api/admin/webhooks/{id}/enable", post(webhooks::enable))
        .route("/api/admin/webhooks/{id}/disable", post(webhooks::disable))
        .route("/api/admin/webhook-messages", get(webhooks::messages))
        .route("/api/admin/webhook-messages/{id}/replay", post(webhooks::replay))
        .layer(axum::middleware::from_fn(in_language))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Relais operator admin API",
        description = "The registry of the Relais hub (service providers, identity providers, data \
            providers, habilitations), its signing keys and its notifications to administrations. Authentication: an operator's bearer \
            token (`[[operators]]` in the configuration), or the token an agent with the operator role \
            made on the partner portal's instruction page (valid 8 hours). Errors in French when \
            Accept-Language prefers it. Every write is traced with its author. \
            Actors declared in the configuration file are read-only here.",
        license(name = "EUPL-1.2")
    ),
    paths(
        service_providers::list,
        service_providers::one,
        service_providers::put,
        service_providers::remove,
        service_providers::renew_secret,
        identity_providers::list,
        identity_providers::one,
        identity_providers::put,
        identity_providers::remove,
        data_providers::list,
        data_providers::one,
        data_providers::put,
        data_providers::remove,
        data_providers::renew_secret,
        habilitations::list,
        habilitations::one,
        habilitations::put,
        habilitations::remove,
        habilitation_requests::list,
        habilitation_requests::one,
        habilitation_requests::decide,
        keys::list,
        keys::rotate,
        webhooks::list,
        webhooks::enable,
        webhooks::disable,
        webhooks::messages,
        webhooks::replay,
    ),
    modifiers(&OperatorToken),
    security(("operator" = [])),
    tags(
        (name = "service-providers", description = "The services people sign in to"),
        (name = "identity-providers", description = "Where people prove who they are"),
        (name = "data-providers", description = "The administrations that hold data"),
        (name = "habilitations", description = "Organisations allowed to receive data, under a legal basis"),
        (name = "habilitation-requests", description = "The partner portal's requests to go to production (DataPass's), decided by the operator's instructor"),
        (name = "keys", description = "The hub's signing keys"),
        (name = "webhooks", description = "The administrations' subscriptions to notifications, and the messages: pending, delivered, dead letters to replay"),
    )
)]
struct AdminApi;

struct OperatorToken;

impl Modify for OperatorToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("An operator's token, or an agent operator's token from the portal"))
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("operator", SecurityScheme::Http(scheme));
    }
}

/// The OpenAPI document of the admin API, with the hub's address as its server.
pub fn openapi_document(state: &AppState) -> utoipa::openapi::OpenApi {
    let mut document = AdminApi::openapi();
    let issuer = state.settings.issuer.as_str().trim_end_matches('/').to_owned();
    document.servers = Some(vec![utoipa::openapi::Server::new(issuer)]);
    document
}

async fn openapi(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let cache = [(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"))];
    (cache, Json(openapi_document(&state))).into_response()
}

/// The operator a request is made by: its bearer token is one of `[[operators]]`, or one an
/// agent with the operator role made on the portal
/// ([`crate::engine::portal::admin_tokens`]).
#[derive(Clone, Debug)]
pub struct Operator {
    author: String,
}

impl Operator {
    /// The author of its changes in the traces: `operator:<name>` for a credential of
    /// `[[operators]]`, `agent:<sub>` for an agent with the operator role.
    pub fn author(&self) -> String {
        self.author.clone()
    }
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AdminError> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(|| {
                AdminError::Unauthorized(Said::new(
                    "an operator's bearer token is required",
                    "un jeton d'opérateur (Bearer) est requis",
                ))
            })?;
        // Digests compared: the time taken says nothing of the tokens.
        let digest = relais_oidc::random::digest(presented);
        let credential = state
            .settings
            .operators
            .iter()
            .find(|operator| relais_oidc::random::digest(operator.token.expose()) == digest);
        if let Some(credential) = credential {
            return Ok(Operator { author: format!("operator:{}", credential.name) });
        }
        // An agent with the operator role, with a token made on the portal.
        if let Some(agent) = crate::engine::portal::admin_tokens::operator_of(state, presented).await? {
            return Ok(Operator { author: agent.author() });
        }
        Err(AdminError::Unauthorized(Said::new(
            "not an operator's token (nor a live token of an agent with the operator role)",
            "ce n'est pas un jeton d'opérateur (ni le jeton en cours d'un agent ayant le rôle d'opérateur)",
        )))
    }
}

/// Refuses a change to an actor the configuration file declares.
async fn writable(state: &AppState, actor: ActorRef<'_>) -> Result<Option<Source>, AdminError> {
    let source = state.registry_writer.source(actor).await?;
    if source == Some(Source::Configuration) {
        return Err(AdminError::conflict(
            format!(
                "`{}` is declared in the configuration file: change it there (the file wins at each reload)",
                actor.id()
            ),
            format!(
                "`{}` est déclaré dans le fichier de configuration : modifiez-le là (le fichier l'emporte à chaque rechargement)",
                actor.id()
            ),
        ));
    }
    Ok(source)
}

/// Traces a change made by `operator`; the write is done already, so a trace that cannot be
/// kept is logged loudly and answered as unavailable (the operator retries: writes are
/// idempotent).
async fn traced(state: &AppState, operator: &Operator, actor: ActorRef<'_>, change: &str) -> Result<(), AdminError> {
    let event = StepEvent::registry_change(state.clock.now(), &operator.author(), actor, change);
    state.tracer.emit(event).await.map_err(AdminError::from)
}

/// Where the actor a request names comes from; not found when it is not registered.
async fn source_of(state: &AppState, actor: ActorRef<'_>) -> Result<Source, AdminError> {
    plausible_id(actor.id())?;
    let missing = || {
        let (en, fr) = match actor {
            ActorRef::ServiceProvider(_) => ("no service provider", "aucun fournisseur de service"),
            ActorRef::IdentityProvider(_) => ("no identity provider", "aucun fournisseur d'identité"),
            ActorRef::DataProvider(_) => ("no data provider", "aucun fournisseur de données"),
            ActorRef::Habilitation(_) => ("no habilitation", "aucune habilitation"),
        };
        AdminError::not_found(format!("{en} `{}`", actor.id()), format!("{fr} `{}`", actor.id()))
    };
    state.registry_writer.source(actor).await?.ok_or_else(missing)
}

/// Each of `actors`, as `view` shows it with where it comes from.
async fn with_sources<T, V>(
    state: &AppState,
    actors: Vec<T>,
    actor: fn(&T) -> ActorRef<'_>,
    view: fn(&T, Source) -> V,
) -> Result<Vec<V>, AdminError> {
    let mut views = Vec::with_capacity(actors.len());
    for item in &actors {
        let source = state.registry_writer.source(actor(item)).await?;
        views.push(view(item, source.unwrap_or(Source::Registered)));
    }
    Ok(views)
}

/// `added` or `replaced`, and its status.
fn put_outcome(before: Option<Source>) -> (&'static str, axum::http::StatusCode) {
    match before {
        None => ("added", axum::http::StatusCode::CREATED),
        Some(_) => ("replaced", axum::http::StatusCode::OK),
    }
}

/// A JSON answer that no cache keeps (it may hold a secret shown once).
fn answer(status: axum::http::StatusCode, body: impl serde::Serialize) -> Response {
    (status, no_store(), Json(body)).into_response()
}

/// `204 No Content`.
fn removed() -> Response {
    (axum::http::StatusCode::NO_CONTENT, no_store()).into_response()
}

/// The id in a request's path; a path that is not UTF-8 is refused as JSON like the rest.
pub struct Id(pub String);

impl FromRequestParts<AppState> for Id {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AdminError> {
        match axum::extract::Path::<String>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(id)) => Ok(Self(id)),
            Err(rejection) => {
                let text = rejection.body_text();
                Err(AdminError::invalid("path", text.clone(), format!("chemin invalide : {text}")))
            }
        }
    }
}

/// An id as the registry holds it: anything else is not there (and is never sent to the
/// database: a NUL byte is refused by PostgreSQL).
fn plausible_id(id: &str) -> Result<(), AdminError> {
    if id.is_empty() || id.len() > 255 || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AdminError::not_found(
            format!("no such id `{}`", id.escape_default()),
            format!("aucun identifiant `{}`", id.escape_default()),
        ));
    }
    Ok(())
}
