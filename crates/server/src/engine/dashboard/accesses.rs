//! What the dashboard says of the administrations that looked: for each agent's access to the
//! person's data (a checktoken traced with an organisation), the organisation's name (from the
//! organisation registry, else its SIRET), and the legal basis of the habilitation it was made
//! under. The organisation answers for its agents: no agent is named, the trace names none.

use std::collections::HashMap;

use relais_domain::agent::{Habilitation, Siret};
use relais_domain::trace::TraceRecord;

use crate::error::PageError;
use crate::state::AppState;

/// The names and legal bases the agents' accesses among `records` need.
pub(super) struct Accesses {
    organisations: HashMap<String, String>,
    habilitations: Vec<Habilitation>,
}

impl Accesses {
    /// Looks up the organisations of `records` (each once) and reads the habilitations.
    pub(super) async fn of(state: &AppState, records: &[TraceRecord]) -> Result<Self, PageError> {
        let mut organisations = HashMap::new();
        for siret in records.iter().filter_map(|record| record.event.organisation.as_deref()) {
            if organisations.contains_key(siret) {
                continue;
            }
            let name = match (state.organisations.as_ref(), Siret::parse(siret)) {
                (Some(registry), Ok(parsed)) => match registry.lookup(&parsed).await {
                    Ok(Some(organisation)) => Some(organisation.name),
                    Ok(None) => None,
                    Err(error) => {
                        tracing::warn!(%error, "organisation registry unavailable for the dashboard");
                        None
                    }
                },
                _ => None,
            };
            organisations.insert(siret.to_owned(), name.unwrap_or_else(|| format!("SIRET {siret}")));
        }
        let habilitations = if organisations.is_empty() { Vec::new() } else { state.registry.habilitations().await? };
        Ok(Self { organisations, habilitations })
    }

    /// The organisation of `record`'s access, by name.
    pub(super) fn organisation(&self, record: &TraceRecord) -> Option<String> {
        record.event.organisation.as_ref().map(|siret| self.organisations.get(siret).cloned().unwrap_or_default())
    }

    /// The legal basis of `record`'s access (its reference and where to read it); the
    /// habilitation's id when it has been withdrawn since.
    pub(super) fn legal_basis(&self, record: &TraceRecord) -> Option<(String, String)> {
        let ids = record.event.habilitation.as_deref()?;
        let mut references = Vec::new();
        let mut url = String::new();
        for id in ids.split(',').filter(|id| !id.is_empty()) {
            match self.habilitations.iter().find(|h| h.id == id) {
                Some(habilitation) => {
                    if !references.contains(&habilitation.legal_basis.reference) {
                        references.push(habilitation.legal_basis.reference.clone());
                    }
                    if url.is_empty() {
                        url = habilitation.legal_basis.url.clone();
                    }
                }
                None => references.push(id.to_owned()),
            }
        }
        Some((references.join(" ; "), url))
    }
}
