//! The rules of a data provider's registration.

use std::collections::BTreeMap;

use super::{check_display_name, check_secret_length, check_transport, check_url_safe_id, refuse, RegistrationError};
use crate::api_description::{ApiDescription, ProviderAbout};
use crate::data::{DataProvider, DataScope};
use crate::ids::{DpId, SpId};
use crate::scopes::Scope;
use crate::secret::{Secret, SecretDigest};

/// One kind of data a provider serves.
#[derive(Clone, Debug)]
pub struct DataScopeRegistration {
    /// The scope a service asks for.
    pub name: String,
    /// What the person reads on the consent page.
    pub label: String,
    /// A sentence on the data.
    pub description: String,
}

/// A data provider as the operator registers it.
#[derive(Clone, Debug)]
pub struct DataProviderRegistration {
    /// Its id (its login at checktoken).
    pub id: String,
    /// Its name, shown to the person.
    pub name: String,
    /// Its secret at checktoken (only its digest is kept).
    pub client_secret: Option<Secret>,
    /// Whether its checktoken answers are signed JWTs (RFC 9701).
    pub signed_checktoken: bool,
    /// The data it serves.
    pub scopes: Vec<DataScopeRegistration>,
    /// Service provider → the scopes it may ask for.
    pub allowed_service_providers: BTreeMap<String, Vec<String>>,
    /// Who may ask for its data, for the catalogue (empty: not said).
    pub eligibility: String,
    /// Its rate limit, requests per minute and per service, for the catalogue.
    pub rate_limit_per_minute: Option<u32>,
    /// Its OpenAPI description (a JSON document), for the catalogue.
    pub openapi: Option<String>,
    /// Where the hub checks that it answers, for the catalogue's availability.
    pub status_url: Option<String>,
}

impl DataProviderRegistration {
    /// The data provider, if every rule holds; `known_sps` are the registered service
    /// providers it may allow.
    pub fn register(self, known_sps: &[SpId]) -> Result<DataProvider, RegistrationError> {
        check_url_safe_id("id", &self.id)?;
        check_display_name("name", &self.name)?;
        let secret = self.client_secret.ok_or_else(|| refuse("client_secret", "is required", "est obligatoire"))?;
        check_secret_length("client_secret", &secret)?;
        let mut scopes: Vec<DataScope> = Vec::new();
        for scope in self.scopes {
            if Scope::parse(&scope.name).is_some() || scope.name.is_empty() || scope.name.contains(char::is_whitespace)
            {
                return Err(refuse(
                    "scopes",
                    format!("`{}` is not a valid data scope (identity scopes are the hub's)", scope.name),
                    format!(
                        "`{}` n'est pas un scope de données valide (les scopes d'identité sont ceux du hub)",
                        scope.name
                    ),
                ));
            }
            if scopes.iter().any(|s| s.name == scope.name) {
                return Err(refuse(
                    "scopes",
                    format!("`{}` is listed twice", scope.name),
                    format!("`{}` figure deux fois", scope.name),
                ));
            }
            scopes.push(DataScope { name: scope.name, label: scope.label, description: scope.description });
        }
        let mut allowed = BTreeMap::new();
        for (sp, granted) in self.allowed_service_providers {
            let sp = SpId::new(sp);
            if !known_sps.contains(&sp) {
                return Err(refuse(
                    "allowed_service_providers",
                    format!("unknown service provider `{sp}`"),
                    format!("fournisseur de service `{sp}` inconnu"),
                ));
            }
            if let Some(unknown) = granted.iter().find(|g| !scopes.iter().any(|s| &s.name == *g)) {
                return Err(refuse(
                    "allowed_service_providers",
                    format!("`{unknown}` is not a scope of this provider"),
                    format!("`{unknown}` n'est pas un scope de ce fournisseur"),
                ));
            }
            allowed.insert(sp, granted);
        }
        let eligibility = self.eligibility.trim().to_owned();
        if eligibility.chars().count() > 1000 || eligibility.chars().any(|c| c.is_control() && c != '\n') {
            return Err(refuse(
                "eligibility",
                "at most 1000 characters, without control characters",
                "1000 caractères au plus, sans caractère de contrôle",
            ));
        }
        if self.rate_limit_per_minute == Some(0) {
            return Err(refuse(
                "rate_limit_per_minute",
                "must be at least 1 (omit it when there is no limit)",
                "doit valoir au moins 1 (omettez-le s'il n'y a pas de limite)",
            ));
        }
        let api = match self.openapi.as_deref().map(str::trim).filter(|text| !text.is_empty()) {
            None => None,
            Some(document) => {
                Some(ApiDescription::parse(document).map_err(|error| refuse("openapi", error.en, error.fr))?)
            }
        };
        let status_url = match self.status_url.as_deref().map(str::trim).filter(|url| !url.is_empty()) {
            None => None,
            Some(text) => {
                let url = url::Url::parse(text).map_err(|e| {
                    refuse(
                        "status_url",
                        format!("`{text}`: {e}"),
                        format!("`{text}` n'est pas une adresse valide : {e}"),
                    )
                })?;
                check_transport("status_url", &url, false)?;
                Some(url.to_string())
            }
        };
        let about = ProviderAbout { eligibility, rate_limit_per_minute: self.rate_limit_per_minute, api, status_url };
        Ok(DataProvider {
            secret: SecretDigest::of(&self.id, &secret),
            id: DpId::new(self.id),
            name: self.name,
            scopes,
            signed_checktoken: self.signed_checktoken,
            allowed,
            about: std::sync::Arc::new(about),
        })
    }
}
