//! The `[[data_providers]]` sections: the data providers, their scopes and which service
//! providers may ask for which.

use std::path::PathBuf;

use relais_domain::agent::Habilitation;
use relais_domain::civil_time::end_of_paris_day;
use relais_domain::registration::{
    check_among_data_providers, DataProviderRegistration, DataScopeRegistration, HabilitationRegistration,
};
use relais_domain::{DataProvider, ServiceProvider, SpId};
use serde::{Deserialize, Serialize};

use super::actors::at;
use super::{env_name, error, secret, ConfigError, Env};

/// `[[data_providers]]`
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DataProviderSection {
    /// Its id (its login at checktoken).
    pub id: String,
    /// Its name, shown to the person.
    pub name: String,
    /// Its secret at checktoken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// File holding it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_file: Option<PathBuf>,
    /// `json` (RFC 7662) or `jwt` (RFC 9701).
    #[serde(default)]
    pub checktoken_format: CheckTokenFormat,
    /// The data it serves.
    pub scopes: Vec<DataScopeSection>,
    /// SP client id → the scopes it may ask for.
    #[serde(default)]
    pub allowed_service_providers: std::collections::BTreeMap<String, Vec<String>>,
    /// Who may ask for its data, for the public catalogue.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub eligibility: String,
    /// Its rate limit (requests per minute and per service), for the catalogue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_minute: Option<u32>,
    /// Its OpenAPI 3 description (JSON), rendered on its catalogue page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openapi: Option<String>,
    /// A file holding it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openapi_file: Option<PathBuf>,
    /// Where the hub checks once a minute that it answers (its availability in the catalogue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_url: Option<String>,
}

/// `[[data_providers.scopes]]`
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DataScopeSection {
    /// The scope.
    pub name: String,
    /// French label for the consent page.
    pub label: String,
    /// French description of the data.
    #[serde(default)]
    pub description: String,
}

impl DataProviderSection {
    /// A data provider with `client_secret` at checktoken, serving no data yet.
    pub fn new(id: &str, name: &str, client_secret: &str) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            client_secret: Some(client_secret.into()),
            client_secret_file: None,
            checktoken_format: CheckTokenFormat::default(),
            scopes: Vec::new(),
            allowed_service_providers: Default::default(),
            eligibility: String::new(),
            rate_limit_per_minute: None,
            openapi: None,
            openapi_file: None,
            status_url: None,
        }
    }
}

impl DataScopeSection {
    /// A scope with its label and description for the consent page.
    pub fn new(name: &str, label: &str, description: &str) -> Self {
        Self { name: name.into(), label: label.into(), description: description.into() }
    }
}

/// The format of a data provider's checktoken answers.
#[derive(Debug, Default, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CheckTokenFormat {
    /// RFC 7662 JSON.
    #[default]
    Json,
    /// An RFC 9701 signed JWT.
    Jwt,
}

pub(super) fn data_providers(
    sections: Vec<DataProviderSection>,
    sp_ids: &[SpId],
    env: Env,
) -> Result<Vec<DataProvider>, ConfigError> {
    let mut providers: Vec<DataProvider> = Vec::new();
    for (index, dp) in sections.into_iter().enumerate() {
        let field = |name: &str| format!("data_providers[{index}].{name}");
        if providers.iter().any(|known| known.id.as_str() == dp.id) {
            return Err(error(field("id"), format!("`{}` is not unique", dp.id)));
        }
        let client_secret =
            secret(&field("client_secret"), &dp.client_secret, &dp.client_secret_file, &env_name("DP", &dp.id), env)?;
        let registration = DataProviderRegistration {
            id: dp.id,
            name: dp.name,
            client_secret,
            signed_checktoken: dp.checktoken_format == CheckTokenFormat::Jwt,
            scopes: dp
                .scopes
                .into_iter()
                .map(|scope| DataScopeRegistration {
                    name: scope.name,
                    label: scope.label,
                    description: scope.description,
                })
                .collect(),
            allowed_service_providers: dp.allowed_service_providers,
            eligibility: dp.eligibility,
            rate_limit_per_minute: dp.rate_limit_per_minute,
            openapi: match (dp.openapi, dp.openapi_file) {
                (Some(_), Some(_)) => {
                    return Err(error(field("openapi"), "give either openapi or openapi_file, not both"))
                }
                (Some(text), None) => Some(text),
                (None, Some(path)) => Some(
                    std::fs::read_to_string(&path)
                        .map_err(|e| error(field("openapi_file"), format!("cannot read {}: {e}", path.display())))?,
                ),
                (None, None) => None,
            },
            status_url: dp.status_url,
        };
        let provider = registration.register(sp_ids).map_err(at("data_providers", index))?;
        check_among_data_providers(&provider, &providers).map_err(at("data_providers", index))?;
        providers.push(provider);
    }
    Ok(providers)
}

/// `[[habilitations]]`: an organisation, for a procedure, under a legal basis, may receive
/// these scopes of one data provider until a date.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HabilitationSection {
    /// Its id.
    pub id: String,
    /// The organisation's SIREN (every establishment) or one SIRET.
    pub organisation: String,
    /// The procedure it serves.
    pub procedure: String,
    /// The legal text's reference.
    pub legal_basis: String,
    /// Where to read it.
    pub legal_basis_url: String,
    /// The data provider's id.
    pub data_provider: String,
    /// Its scopes covered.
    pub scopes: Vec<String>,
    /// The last day it is valid (`YYYY-MM-DD`, up to midnight, Paris time).
    pub valid_until: String,
    /// The citizen services (client ids) where the files it instructs are filed: the person
    /// references they received may be exchanged under it. None: no request naming a person.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub citizen_services: Vec<String>,
}

pub(super) fn habilitations(
    sections: Vec<HabilitationSection>,
    providers: &[DataProvider],
    services: &[ServiceProvider],
) -> Result<Vec<Habilitation>, ConfigError> {
    let mut habilitations: Vec<Habilitation> = Vec::new();
    for (index, section) in sections.into_iter().enumerate() {
        let field = |name: &str| format!("habilitations[{index}].{name}");
        if habilitations.iter().any(|known| known.id == section.id) {
            return Err(error(field("id"), format!("`{}` is not unique", section.id)));
        }
        let expires_at = end_of_paris_day(&section.valid_until)
            .ok_or_else(|| error(field("valid_until"), "must be a date, YYYY-MM-DD"))?;
        let registration = HabilitationRegistration {
            id: section.id,
            organisation: section.organisation,
            procedure: section.procedure,
            legal_basis: section.legal_basis,
            legal_basis_url: section.legal_basis_url,
            data_provider: section.data_provider,
            scopes: section.scopes,
            expires_at,
            citizen_services: section.citizen_services,
        };
        habilitations.push(registration.register(providers, services).map_err(at("habilitations", index))?);
    }
    Ok(habilitations)
}
