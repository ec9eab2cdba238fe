//! The HTTP side of the Relais hub: one router per audience (service providers' OpenID Connect
//! endpoints, the identity providers' callbacks, the person's pages), the flow engine that
//! chains the steps of a sign-in, and the one place where errors become responses.

pub mod admin;
mod assets;
pub mod checkpoints;
mod context;
mod cookies;
pub mod engine;
mod error;
mod i18n;
pub mod keys;
pub mod metrics;
mod pages;
mod routes;
mod settings;
mod state;

pub use engine::dashboard::{DASHBOARD_CALLBACK_PATH, DASHBOARD_CLIENT_ID};
pub use engine::portal::PORTAL_CALLBACK_PATH;
pub use error::{ApiError, PageError};
pub use relais_oidc::upstream::UpstreamTimeouts;
pub use settings::{Brand, HubSettings, Instructor, OperatorCredential, PortalSettings};
pub use state::{agent_issuer, AppState, HubParts};

/// Serves the hub on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(listener, router(state)).await
}

/// Serves until `shutdown` completes, then lets the requests in progress finish.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await
}

/// The hub's whole router.
pub fn router(state: AppState) -> axum::Router {
    routes::router(state)
}
