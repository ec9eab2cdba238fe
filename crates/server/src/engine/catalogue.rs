//! The public catalogue ([`relais_domain::catalogue`]): read from the registry at each request
//! (the registry's cache keeps it cheap), so a provider, a service or a habilitation registered
//! or withdrawn shows at once.

use relais_domain::catalogue::{catalogue as build, Catalogue};
use relais_domain::portal::is_sandbox_client;
use relais_store::StoreError;

use crate::state::AppState;

/// The catalogue as the registry holds it now.
pub async fn catalogue(state: &AppState) -> Result<Catalogue, StoreError> {
    let providers = state.registry.data_providers().await?;
    // The services the providers allow, each read once; sandbox clients are not services.
    let mut services = Vec::new();
    let live = providers.iter().flat_map(|p| p.allowed.keys()).filter(|id| !is_sandbox_client(id.as_str()));
    for id in live {
        if !services.iter().any(|s: &relais_domain::ServiceProvider| &s.id == id) {
            if let Some(service) = state.registry.service_provider(id).await? {
                services.push(service);
            }
        }
    }
    let habilitations = state.registry.habilitations().await?;
    Ok(build(&providers, &services, &habilitations, state.clock.now()))
}
