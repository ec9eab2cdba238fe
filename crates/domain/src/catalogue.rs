//! The public catalogue of the data the hub moves (api.gouv.fr's, `research/anchors.md` §5),
//! generated from the registry itself rather than from hand-edited pages: each data provider,
//! its scopes with their labels and descriptions, whether the data can be fetched with the
//! person's own sign-in and consent (api.gouv.fr's "peut s'utiliser avec FranceConnect"), the
//! citizen services allowed to ask for it, and the live habilitations under which
//! organisations' agents receive it, with their legal bases. Open data: nothing personal.

use crate::agent::Habilitation;
use crate::clock::UnixTime;
use crate::data::DataProvider;
use crate::profile::Profile;
use crate::providers::ServiceProvider;

/// The catalogue.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Catalogue {
    /// The data providers, by name.
    pub providers: Vec<ProviderEntry>,
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
    /// The scopes it may ask for.
    pub scopes: Vec<String>,
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

/// The catalogue of `providers`, with the citizen `services` they allow and the
/// `habilitations` live at `now`.
pub fn catalogue(
    providers: &[DataProvider],
    services: &[ServiceProvider],
    habilitations: &[Habilitation],
    now: UnixTime,
) -> Catalogue {
    let mut entries: Vec<ProviderEntry> = providers
        .iter()
        .map(|provider| {
            let mut allowed: Vec<ServiceEntry> = provider
                .allowed
                .iter()
                .filter(|(_, scopes)| !scopes.is_empty())
                .filter_map(|(sp, scopes)| {
                    let service = services.iter().find(|s| &s.id == sp && s.profile == Profile::Citizen)?;
                    let scopes = scopes.iter().filter(|s| provider.scope(s).is_some()).cloned().collect::<Vec<_>>();
                    (!scopes.is_empty()).then(|| ServiceEntry { name: service.name.clone(), scopes })
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
            }
        })
        .collect();
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Catalogue { providers: entries }
}
