//! The `[[data_providers]]` sections: the data providers, their scopes and which service
//! providers may ask for which.

use std::collections::HashSet;
use std::path::PathBuf;

use relais_domain::{Scope, SpId};
use serde::Deserialize;

use super::{env_name, error, secret, ConfigError, Env, MINIMUM_SP_SECRET_LENGTH};

/// `[[data_providers]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataProviderSection {
    /// Its id (its login at checktoken).
    pub id: String,
    /// Its name, shown to the person.
    pub name: String,
    /// Its secret at checktoken.
    pub client_secret: Option<String>,
    /// File holding it.
    pub client_secret_file: Option<PathBuf>,
    /// `json` (RFC 7662) or `jwt` (RFC 9701).
    #[serde(default = "default_checktoken_format")]
    pub checktoken_format: String,
    /// The data it serves.
    pub scopes: Vec<DataScopeSection>,
    /// SP client id → the scopes it may ask for.
    #[serde(default)]
    pub allowed_service_providers: std::collections::BTreeMap<String, Vec<String>>,
}

/// `[[data_providers.scopes]]`
#[derive(Debug, Deserialize)]
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

fn default_checktoken_format() -> String {
    "json".into()
}

pub(super) fn data_providers(
    sections: Vec<DataProviderSection>,
    sp_ids: &HashSet<String>,
    env: Env,
) -> Result<Vec<relais_domain::DataProvider>, ConfigError> {
    let mut ids = HashSet::new();
    let mut scope_names = HashSet::new();
    let mut providers = Vec::new();
    for (index, dp) in sections.into_iter().enumerate() {
        let at = |name: &str| format!("data_providers[{index}].{name}");
        if dp.id.is_empty() || !ids.insert(dp.id.clone()) {
            return Err(error(at("id"), format!("`{}` is empty or not unique", dp.id)));
        }
        let secret =
            secret(&at("client_secret"), &dp.client_secret, &dp.client_secret_file, &env_name("DP", &dp.id), env)?
                .ok_or_else(|| error(at("client_secret"), "is required"))?;
        if secret.expose().len() < MINIMUM_SP_SECRET_LENGTH {
            return Err(error(at("client_secret"), format!("must be at least {MINIMUM_SP_SECRET_LENGTH} characters")));
        }
        let signed_checktoken = match dp.checktoken_format.as_str() {
            "json" => false,
            "jwt" => true,
            other => return Err(error(at("checktoken_format"), format!("`{other}` is not json or jwt"))),
        };
        let mut scopes = Vec::new();
        for (scope_index, scope) in dp.scopes.into_iter().enumerate() {
            let field = at(&format!("scopes[{scope_index}].name"));
            if Scope::parse(&scope.name).is_some() || scope.name.is_empty() || scope.name.contains(char::is_whitespace)
            {
                return Err(error(
                    field,
                    format!("`{}` is not a valid data scope (identity scopes are the hub's)", scope.name),
                ));
            }
            if !scope_names.insert(scope.name.clone()) {
                return Err(error(field, format!("`{}` is already served by another data provider", scope.name)));
            }
            scopes.push(relais_domain::DataScope {
                name: scope.name,
                label: scope.label,
                description: scope.description,
            });
        }
        let mut allowed = std::collections::BTreeMap::new();
        for (sp, granted) in dp.allowed_service_providers {
            if !sp_ids.contains(&sp) {
                return Err(error(at("allowed_service_providers"), format!("unknown service provider `{sp}`")));
            }
            if let Some(unknown) = granted.iter().find(|g| !scopes.iter().any(|s| &s.name == *g)) {
                return Err(error(
                    at("allowed_service_providers"),
                    format!("`{unknown}` is not a scope of this provider"),
                ));
            }
            allowed.insert(SpId::new(sp), granted);
        }
        providers.push(relais_domain::DataProvider {
            secret: relais_domain::SecretDigest::of(&dp.id, &secret),
            id: relais_domain::DpId::new(dp.id),
            name: dp.name,
            scopes,
            signed_checktoken,
            allowed,
        });
    }
    Ok(providers)
}
