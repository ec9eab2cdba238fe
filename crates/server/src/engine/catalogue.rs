//! The public catalogue ([`relais_domain::catalogue`]): read from the registry at each request
//! (the registry's cache keeps it cheap), so a provider, a service or a habilitation registered
//! or withdrawn shows at once. Its figures are counted from the traces once a minute per node
//! (they cover 30 days: a minute more or less changes nothing, and counting reads the traces).
//! A provider that gives a `status_url` is checked once a minute ([`check_providers`]): its
//! availability is the share of those checks it answered.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use relais_domain::api_description::ProviderAbout;
use relais_domain::catalogue::{
    catalogue as build, Availability, Catalogue, Figures, OrganisationEntry, Sources, FIGURES_PERIOD_SECONDS,
};
use relais_domain::portal::{is_sandbox_client, may_be_production_client};
use relais_domain::UnixTime;
use relais_store::StoreError;

use crate::state::AppState;

/// How long a node keeps the figures it counted, in seconds.
const FIGURES_LIFETIME: u64 = 60;

/// What a node keeps between two catalogues: the figures it counted last (and when), and the
/// organisation of each portal service seen (it does not change).
#[derive(Default)]
pub struct CatalogueCache {
    figures: Mutex<Option<(UnixTime, Counted)>>,
    organisations: Mutex<HashMap<String, OrganisationEntry>>,
}

/// What the traces and the checks say, by provider: the figures and the availability.
type Counted = (BTreeMap<String, Figures>, BTreeMap<String, Availability>);

/// How long the hub waits for a provider's `status_url` to answer.
const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Checks once that each provider with a `status_url` answers (`GET`, `2xx` within 5 s), and
/// keeps the answer for this minute (the first node's, when several check).
pub async fn check_providers(state: &AppState) -> Result<(), StoreError> {
    let minute = state.clock.now().0 / 60;
    let client = reqwest::Client::builder()
        .timeout(CHECK_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|error| StoreError::Unavailable(format!("provider checks: {error}")))?;
    for provider in state.registry.data_providers().await? {
        let Some(url) = provider.about.status_url.as_deref() else { continue };
        let answered = match client.get(url).send().await {
            Ok(response) => response.status().is_success(),
            Err(_) => false,
        };
        if !answered {
            tracing::warn!(target: "relais::catalogue", dp = %provider.id, %url, "data provider did not answer its check");
        }
        state.traces.record_check(provider.id.as_str(), minute, answered).await?;
    }
    Ok(())
}

/// The catalogue as the registry holds it now.
pub async fn catalogue(state: &AppState) -> Result<Catalogue, StoreError> {
    let providers = state.registry.data_providers().await?;
    catalogue_of(state, &providers).await
}

/// The catalogue of the provider `id` alone (its page), and its API description; `None` when
/// no such provider is registered.
pub async fn provider(state: &AppState, id: &str) -> Result<Option<(Catalogue, Arc<ProviderAbout>)>, StoreError> {
    let Some(provider) = state.registry.data_provider(&relais_domain::DpId::new(id)).await? else { return Ok(None) };
    let about = provider.about.clone();
    Ok(Some((catalogue_of(state, std::slice::from_ref(&provider)).await?, about)))
}

/// The catalogue of `providers`.
async fn catalogue_of(state: &AppState, providers: &[relais_domain::DataProvider]) -> Result<Catalogue, StoreError> {
    // The services the providers allow, each read once; sandbox clients are not services.
    let live: std::collections::BTreeSet<&relais_domain::SpId> =
        providers.iter().flat_map(|p| p.allowed.keys()).filter(|id| !is_sandbox_client(id.as_str())).collect();
    let mut services = Vec::with_capacity(live.len());
    for id in live {
        if let Some(service) = state.registry.service_provider(id).await? {
            let organisation = match may_be_production_client(id.as_str()) {
                true => organisation(state, id.as_str()).await?,
                false => None,
            };
            services.push((service, organisation));
        }
    }
    let habilitations = state.registry.habilitations().await?;
    let (figures_since, (figures, availability)) = figures(state).await?;
    let sources = Sources {
        providers,
        services: &services,
        habilitations: &habilitations,
        figures: &figures,
        availability: &availability,
        figures_since,
    };
    Ok(build(&sources, state.clock.now()))
}

/// The organisation of the portal service whose production client is `client_id`, if any.
async fn organisation(state: &AppState, client_id: &str) -> Result<Option<OrganisationEntry>, StoreError> {
    let cache = &state.catalogue_cache;
    if let Some(known) = cache.organisations.lock().ok().and_then(|known| known.get(client_id).cloned()) {
        return Ok(Some(known));
    }
    let Some(service) = state.portal.partner_service_of_client(client_id).await? else { return Ok(None) };
    let entry = OrganisationEntry { name: service.organisation_label, siret: service.organisation };
    if let Ok(mut known) = cache.organisations.lock() {
        // Bounded: the services live in the registry, this is only a shortcut.
        if known.len() > 100_000 {
            known.clear();
        }
        known.insert(client_id.to_owned(), entry.clone());
    }
    Ok(Some(entry))
}

/// The figures of the last 30 days, and their period's start: those this node counted less
/// than a minute ago, or counted now.
async fn figures(state: &AppState) -> Result<(UnixTime, Counted), StoreError> {
    let now = state.clock.now();
    let kept = state.catalogue_cache.figures.lock().ok().and_then(|kept| kept.clone());
    if let Some((at, figures)) = kept.filter(|(at, _)| now.0 < at.0.saturating_add(FIGURES_LIFETIME) && at.0 <= now.0) {
        return Ok((UnixTime(at.0.saturating_sub(FIGURES_PERIOD_SECONDS)), figures));
    }
    let since = UnixTime(now.0.saturating_sub(FIGURES_PERIOD_SECONDS));
    let figures = state.traces.transfer_figures(since).await?;
    let availability = state.traces.availability(since.0 / 60).await?;
    let counted = (figures, availability);
    if let Ok(mut kept) = state.catalogue_cache.figures.lock() {
        *kept = Some((now, counted.clone()));
    }
    Ok((since, counted))
}
