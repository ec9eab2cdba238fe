//! The `[[data_providers]]` sections: the data providers, their scopes and which service
//! providers may ask for which.

use std::path::PathBuf;

use relais_domain::registration::{DataProviderRegistration, DataScopeRegistration};
use relais_domain::{DataProvider, SpId};
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
        };
        let provider = registration.register(sp_ids).map_err(at("data_providers", index))?;
        // A scope names one provider: a service asks for it without naming the provider.
        if let Some(taken) =
            provider.scopes.iter().find(|scope| providers.iter().any(|other| other.scope(&scope.name).is_some()))
        {
            return Err(error(field("scopes"), format!("`{}` is already served by another data provider", taken.name)));
        }
        providers.push(provider);
    }
    Ok(providers)
}
