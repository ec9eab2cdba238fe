//! The public catalogue of the data the hub moves (api.gouv.fr's, `research/anchors.md` §5),
//! generated from the registry itself rather than from hand-edited pages: each data provider,
//! its scopes with their labels and descriptions, whether the data can be fetched with the
//! person's own sign-in and consent (api.gouv.fr's "peut s'utiliser avec FranceConnect"), the
//! citizen services allowed to ask for it, and the live habilitations under which
//! organisations' agents receive it, with their legal bases, and what the data saved people
//! over the last 30 days, counted from the traces ([`figures`]). Open data: nothing personal
//! (counts only).

use std::collections::{BTreeMap, BTreeSet};

use crate::agent::Habilitation;
use crate::clock::UnixTime;
use crate::data::DataProvider;
use crate::profile::Profile;
use crate::providers::ServiceProvider;
use crate::trace::{TraceEvent, TraceKind};

/// The period the catalogue's figures cover: the last 30 days.
pub const FIGURES_PERIOD_SECONDS: u64 = 30 * 24 * 3600;

/// The catalogue.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Catalogue {
    /// The start of the figures' period (seconds since the epoch): the last 30 days.
    pub figures_since: u64,
    /// The data providers, by name.
    pub providers: Vec<ProviderEntry>,
}

/// What a provider's data saved people over a period, from the traces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Figures {
    /// Data given to a service: the provider's checktoken answers that were active.
    pub transfers: u64,
    /// Supporting documents people did not have to upload: one per person, service and
    /// provider that data was given for.
    pub documents_avoided: u64,
}

/// The figures of each provider (by id) in `events` from `since` on. The reference of the
/// count: a store may count in its database, it must count the same.
pub fn figures<'a>(events: impl IntoIterator<Item = &'a TraceEvent>, since: UnixTime) -> BTreeMap<String, Figures> {
    let mut counted = BTreeMap::<&str, Figures>::new();
    let mut documents = BTreeSet::<(&str, &str, &str)>::new();
    for event in events {
        if event.kind != TraceKind::Checktoken || event.outcome != "active" || event.at.0 < since.0 {
            continue;
        }
        let Some(dp) = event.dp.as_deref() else { continue };
        let figures = counted.entry(dp).or_default();
        figures.transfers += 1;
        if let (Some(person), Some(sp)) = (event.person.as_deref(), event.sp.as_deref()) {
            if documents.insert((dp, person, sp)) {
                figures.documents_avoided += 1;
            }
        }
    }
    counted.into_iter().map(|(dp, figures)| (dp.to_owned(), figures)).collect()
}

/// A data provider in the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProviderEntry {
    /// Its id at the hub.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The data it serves.
    pub scopes: Vec<ScopeEntry>,
    /// Whether a service may receive its data with the person's sign-in and consent.
    pub with_person_sign_in: bool,
    /// The citizen services allowed to ask for its data (with the person's consent).
    pub services: Vec<ServiceEntry>,
    /// The live habilitations under which organisations' agents receive its data.
    pub habilitations: Vec<HabilitationEntry>,
    /// What its data saved people over the last 30 days.
    pub figures: Figures,
    /// Who may ask for its data, as it says (empty: not said).
    pub eligibility: String,
    /// Its rate limit, requests per minute and per service, when it has one.
    pub rate_limit_per_minute: Option<u32>,
    /// Where its OpenAPI description is, when it publishes one (`/catalogue/{id}/openapi.json`,
    /// beside its page `/catalogue/{id}`).
    pub openapi_url: Option<String>,
    /// Its availability over the figures' period, when the hub checks it (its `status_url`).
    pub availability: Option<Availability>,
}

/// A provider's availability: the hub's checks over the period (one a minute, whichever node
/// made it), and how many it answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Availability {
    /// The minutes checked.
    pub checks: u64,
    /// Those it answered (`2xx`).
    pub answered: u64,
}

impl Availability {
    /// The share answered, in percent, to the hundredth (floored: 99.999 % is 99.99 %).
    pub fn percent(&self) -> f64 {
        if self.checks == 0 {
            return 0.0;
        }
        (self.answered.min(self.checks) * 10_000 / self.checks) as f64 / 100.0
    }
}

/// One kind of data.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScopeEntry {
    /// The scope a service asks for.
    pub scope: String,
    /// Its label.
    pub label: String,
    /// What the data is.
    pub description: String,
}

/// A citizen service using a provider's data.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServiceEntry {
    /// Its name.
    pub name: String,
    /// The organisation that runs it, when it joined through the partner portal (its
    /// validated habilitation request names it).
    pub organisation: Option<OrganisationEntry>,
    /// The scopes it may ask for.
    pub scopes: Vec<String>,
}

/// An organisation, as the public may see it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrganisationEntry {
    /// Its name.
    pub name: String,
    /// Its SIRET (or SIREN).
    pub siret: String,
}

/// What the catalogue is made of: the registry's providers, the citizen services they allow
/// (with their organisation where known), the habilitations, and the figures by provider.
pub struct Sources<'a> {
    /// The data providers.
    pub providers: &'a [DataProvider],
    /// The citizen services, each with its organisation when known.
    pub services: &'a [(ServiceProvider, Option<OrganisationEntry>)],
    /// The habilitations (the live ones are listed).
    pub habilitations: &'a [Habilitation],
    /// The figures by provider id, from `figures_since` on.
    pub figures: &'a BTreeMap<String, Figures>,
    /// The availability by provider id, over the same period.
    pub availability: &'a BTreeMap<String, Availability>,
    /// The start of the figures' period.
    pub figures_since: UnixTime,
}

/// A live habilitation, as the public may see it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HabilitationEntry {
    /// Its id.
    pub id: String,
    /// The organisation: a SIREN or a SIRET.
    pub organisation: String,
    /// The procedure it serves.
    pub procedure: String,
    /// The legal text.
    pub legal_basis: String,
    /// Where to read it.
    pub legal_basis_url: String,
    /// The scopes it covers.
    pub scopes: Vec<String>,
    /// Until when (exclusive, seconds since the epoch).
    pub expires_at: u64,
}

/// The catalogue of `sources`: its providers, with the citizen services they allow and the
/// habilitations live at `now`.
pub fn catalogue(sources: &Sources<'_>, now: UnixTime) -> Catalogue {
    let Sources { providers, services, habilitations, figures, availability, figures_since } = sources;
    let services: std::collections::HashMap<&crate::SpId, &(ServiceProvider, Option<OrganisationEntry>)> =
        services.iter().map(|entry| (&entry.0.id, entry)).collect();
    let mut entries: Vec<ProviderEntry> = providers
        .iter()
        .map(|provider| {
            let mut allowed: Vec<ServiceEntry> = provider
                .allowed
                .iter()
                .filter(|(_, scopes)| !scopes.is_empty())
                .filter_map(|(sp, scopes)| {
                    let (service, organisation) =
                        services.get(sp).copied().filter(|(s, _)| s.profile == Profile::Citizen)?;
                    let scopes = scopes.iter().filter(|s| provider.scope(s).is_some()).cloned().collect::<Vec<_>>();
                    (!scopes.is_empty()).then(|| ServiceEntry {
                        name: service.name.clone(),
                        organisation: organisation.clone(),
                        scopes,
                    })
                })
                .collect();
            allowed.sort_by(|a, b| a.name.cmp(&b.name));
            let live = habilitations
                .iter()
                .filter(|h| h.dp == provider.id && now.is_before(h.expires_at))
                .map(|h| HabilitationEntry {
                    id: h.id.clone(),
                    organisation: h.organisation.clone(),
                    procedure: h.procedure.clone(),
                    legal_basis: h.legal_basis.reference.clone(),
                    legal_basis_url: h.legal_basis.url.clone(),
                    scopes: h.scopes.clone(),
                    expires_at: h.expires_at.0,
                })
                .collect();
            ProviderEntry {
                id: provider.id.to_string(),
                name: provider.name.clone(),
                scopes: provider
                    .scopes
                    .iter()
                    .map(|s| ScopeEntry {
                        scope: s.name.clone(),
                        label: s.label.clone(),
                        description: s.description.clone(),
                    })
                    .collect(),
                with_person_sign_in: !allowed.is_empty(),
                services: allowed,
                habilitations: live,
                figures: figures.get(provider.id.as_str()).copied().unwrap_or_default(),
                eligibility: provider.about.eligibility.clone(),
                rate_limit_per_minute: provider.about.rate_limit_per_minute,
                openapi_url: provider.about.api.as_ref().map(|_| format!("/catalogue/{}/openapi.json", provider.id)),
                availability: provider
                    .about
                    .status_url
                    .as_ref()
                    .map(|_| availability.get(provider.id.as_str()).copied().unwrap_or_default()),
            }
        })
        .collect();
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Catalogue { figures_since: figures_since.0, providers: entries }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checktoken(at: u64, dp: &str, person: &str, sp: &str, outcome: &str) -> TraceEvent {
        TraceEvent {
            at: UnixTime(at),
            kind: TraceKind::Checktoken,
            person: Some(person.into()),
            sub: None,
            sp: Some(sp.into()),
            idp: None,
            dp: Some(dp.into()),
            scopes: vec!["quotient_familial".into()],
            outcome: outcome.into(),
            organisation: None,
            habilitation: None,
            author: None,
            reference: None,
        }
    }

    #[test]
    fn figures_count_active_answers_and_one_document_per_person_service_and_provider() {
        let mut sign_in = checktoken(50, "caf", "p1", "mairie", "active");
        sign_in.kind = TraceKind::SignIn;
        let events = [
            checktoken(10, "caf", "p1", "mairie", "active"), // before the period
            checktoken(100, "caf", "p1", "mairie", "active"),
            checktoken(101, "caf", "p1", "mairie", "active"), // the same document again
            checktoken(102, "caf", "p1", "creche", "active"),
            checktoken(103, "caf", "p2", "mairie", "active"),
            checktoken(104, "caf", "p3", "mairie", "inactive"),
            checktoken(105, "impots", "p1", "mairie", "active"),
            sign_in,
        ];
        let counted = figures(&events, UnixTime(100));
        assert_eq!(counted["caf"], Figures { transfers: 4, documents_avoided: 3 });
        assert_eq!(counted["impots"], Figures { transfers: 1, documents_avoided: 1 });
        assert_eq!(counted.len(), 2);
    }

    #[test]
    fn availability_is_floored_to_the_hundredth_and_nothing_checked_is_zero() {
        assert_eq!(Availability { checks: 100_000, answered: 99_999 }.percent(), 99.99);
        assert_eq!(Availability { checks: 3, answered: 2 }.percent(), 66.66);
        assert_eq!(Availability { checks: 0, answered: 0 }.percent(), 0.0);
        assert_eq!(Availability { checks: 5, answered: 5 }.percent(), 100.0);
    }
}
