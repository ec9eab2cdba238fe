//! The rules of a habilitation: an organisation, for a procedure, under a legal basis, may
//! receive scopes of one data provider until a date (DataPass's validated request; the
//! partner portal will make them through its approval workflow).

use url::Url;

use super::{check_transport, check_url_safe_id, refuse, RegistrationError};
use crate::agent::{is_siren, Habilitation, LegalBasis, Siret};
use crate::clock::UnixTime;
use crate::data::DataProvider;
use crate::ids::DpId;
use crate::profile::Profile;
use crate::providers::ServiceProvider;

/// A habilitation as it is asked to be registered.
#[derive(Clone, Debug)]
pub struct HabilitationRegistration {
    /// Its id (quoted to the data provider and in the person's dashboard).
    pub id: String,
    /// The organisation: a SIREN (every establishment) or one SIRET.
    pub organisation: String,
    /// The procedure it serves.
    pub procedure: String,
    /// The legal text's reference.
    pub legal_basis: String,
    /// Where to read it.
    pub legal_basis_url: String,
    /// The data provider.
    pub data_provider: String,
    /// Its scopes covered.
    pub scopes: Vec<String>,
    /// Until when (exclusive).
    pub expires_at: UnixTime,
    /// The citizen services whose files it instructs (client ids).
    pub citizen_services: Vec<String>,
}

impl HabilitationRegistration {
    /// The habilitation, if every rule holds against the registered `providers`.
    pub fn register(
        self,
        providers: &[DataProvider],
        services: &[ServiceProvider],
    ) -> Result<Habilitation, RegistrationError> {
        check_url_safe_id("id", &self.id)?;
        let organisation: String = self.organisation.chars().filter(|c| *c != ' ').collect();
        if !is_siren(&organisation) && Siret::parse(&organisation).is_err() {
            return Err(refuse(
                "organisation",
                "must be a SIREN (9 digits) or a SIRET (14 digits) with a valid key",
                "doit être un SIREN (9 chiffres) ou un SIRET (14 chiffres) dont la clé est valide",
            ));
        }
        if self.procedure.trim().is_empty() {
            return Err(refuse("procedure", "is empty", "est vide"));
        }
        if self.legal_basis.trim().is_empty() {
            return Err(refuse(
                "legal_basis",
                "is empty: a habilitation rests on a text",
                "est vide : une habilitation repose sur un texte",
            ));
        }
        let url = Url::parse(&self.legal_basis_url)
            .map_err(|e| refuse("legal_basis_url", e.to_string(), format!("n'est pas une adresse valide : {e}")))?;
        check_transport("legal_basis_url", &url, false)?;
        let dp = DpId::new(self.data_provider);
        let provider = providers.iter().find(|p| p.id == dp).ok_or_else(|| {
            refuse(
                "data_provider",
                format!("unknown data provider `{dp}`"),
                format!("fournisseur de données `{dp}` inconnu"),
            )
        })?;
        if self.scopes.is_empty() {
            return Err(refuse("scopes", "must name at least one scope", "doit indiquer au moins un scope"));
        }
        if let Some(unknown) = self.scopes.iter().find(|s| provider.scope(s).is_none()) {
            return Err(refuse(
                "scopes",
                format!("`{unknown}` is not a scope of `{dp}`"),
                format!("`{unknown}` n'est pas un scope de `{dp}`"),
            ));
        }
        let mut citizen_services = Vec::new();
        for id in self.citizen_services {
            let service = services.iter().find(|sp| sp.id.as_str() == id).ok_or_else(|| {
                refuse(
                    "citizen_services",
                    format!("unknown service provider `{id}`"),
                    format!("fournisseur de service `{id}` inconnu"),
                )
            })?;
            if service.profile != Profile::Citizen {
                return Err(refuse(
                    "citizen_services",
                    format!("`{id}` is not a citizen service"),
                    format!("`{id}` n'est pas un service destiné aux usagers"),
                ));
            }
            if !citizen_services.contains(&service.id) {
                citizen_services.push(service.id.clone());
            }
        }
        Ok(Habilitation {
            id: self.id,
            organisation,
            procedure: self.procedure.trim().to_owned(),
            legal_basis: LegalBasis { reference: self.legal_basis.trim().to_owned(), url: url.to_string() },
            dp,
            scopes: self.scopes,
            expires_at: self.expires_at,
            citizen_services,
        })
    }
}
