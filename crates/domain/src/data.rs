//! Data providers and the transfers of data they make to service providers with the person's
//! consent ("Dites-le-nous une fois").

use std::collections::BTreeMap;

use crate::ids::{DpId, SpId};
use crate::secret::SecretDigest;

/// One kind of data a provider serves, named by its scope.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DataScope {
    /// The scope an SP asks for.
    pub name: String,
    /// What the person reads on the consent page (French).
    pub label: String,
    /// A sentence on the data itself (French).
    pub description: String,
}

/// A data provider as registered at the hub.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct DataProvider {
    /// Its id (its login at checktoken).
    pub id: DpId,
    /// Its name, shown to the person.
    pub name: String,
    /// The data it serves.
    pub scopes: Vec<DataScope>,
    /// The digest of its secret at checktoken.
    pub secret: SecretDigest,
    /// Whether its checktoken answers are signed JWTs (RFC 9701) rather than plain JSON.
    pub signed_checktoken: bool,
    /// Which SP may ask for which of its scopes.
    pub allowed: BTreeMap<SpId, Vec<String>>,
    /// What the catalogue says of it beyond its data (shared: a provider is copied at each
    /// checktoken, its description is not).
    #[serde(default)]
    pub about: std::sync::Arc<crate::api_description::ProviderAbout>,
}

impl DataProvider {
    /// The scope named `name`, if this provider serves it.
    pub fn scope(&self, name: &str) -> Option<&DataScope> {
        self.scopes.iter().find(|scope| scope.name == name)
    }

    /// Whether `sp` may receive `scope` from this provider.
    pub fn allows(&self, sp: &SpId, scope: &str) -> bool {
        self.allowed.get(sp).is_some_and(|scopes| scopes.iter().any(|s| s == scope))
    }
}

/// One scope of data from one provider to the SP of the request.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct DataTransfer {
    /// The provider.
    pub dp: DpId,
    /// The scope.
    pub scope: String,
}

impl DataTransfer {
    /// The transfer's value in the consent form: `dp:scope`.
    pub fn form_value(&self) -> String {
        format!("{}:{}", self.dp, self.scope)
    }
}

/// Why a request for data is refused: the scope, its data provider, and what the integrator
/// can do about it.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "scope `{scope}` is data of the provider `{provider}`, which has not authorised this client to \
     receive it; the service must be granted it at the hub (the provider's allowed_service_providers) \
     before asking"
)]
pub struct TransferNotAllowed {
    /// The scope asked.
    pub scope: String,
    /// The data provider that serves it.
    pub provider: DpId,
}

/// The transfers a space-separated `scope` parameter asks for on behalf of `sp`: each data
/// scope of a registered provider, which must allow that SP. Other scopes are not data scopes.
pub fn requested_transfers(
    requested: &str,
    sp: &SpId,
    providers: &[DataProvider],
) -> Result<Vec<DataTransfer>, TransferNotAllowed> {
    let transfers = data_scopes(requested, providers);
    for transfer in &transfers {
        if !providers.iter().any(|p| p.id == transfer.dp && p.allows(sp, &transfer.scope)) {
            return Err(TransferNotAllowed { scope: transfer.scope.clone(), provider: transfer.dp.clone() });
        }
    }
    Ok(transfers)
}

/// The data scopes a `scope` parameter names, each with its provider: for an agent service,
/// whose right to them is a habilitation of the agent's organisation, not the provider's list
/// of services.
pub fn data_scopes(requested: &str, providers: &[DataProvider]) -> Vec<DataTransfer> {
    let mut transfers = Vec::new();
    for name in requested.split_ascii_whitespace() {
        let Some(provider) = providers.iter().find(|p| p.scope(name).is_some()) else { continue };
        let transfer = DataTransfer { dp: provider.id.clone(), scope: name.to_owned() };
        if !transfers.contains(&transfer) {
            transfers.push(transfer);
        }
    }
    transfers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caf() -> DataProvider {
        DataProvider {
            id: DpId::new("caf"),
            name: "CAF".into(),
            scopes: vec![
                DataScope {
                    name: "quotient_familial".into(),
                    label: "Quotient familial".into(),
                    description: String::new(),
                },
                DataScope { name: "enfants".into(), label: "Enfants".into(), description: String::new() },
            ],
            secret: SecretDigest::of("caf", &crate::Secret::new("s")),
            signed_checktoken: false,
            allowed: BTreeMap::from([(SpId::new("mairie"), vec!["quotient_familial".into()])]),
            about: Default::default(),
        }
    }

    #[test]
    fn data_scopes_become_transfers_only_when_allowed() {
        let providers = [caf()];
        let transfers =
            requested_transfers("openid quotient_familial profile quotient_familial", &SpId::new("mairie"), &providers)
                .unwrap();
        assert_eq!(transfers, [DataTransfer { dp: DpId::new("caf"), scope: "quotient_familial".into() }]);
        assert_eq!(
            requested_transfers("openid enfants", &SpId::new("mairie"), &providers),
            Err(TransferNotAllowed { scope: "enfants".into(), provider: DpId::new("caf") })
        );
        assert_eq!(
            requested_transfers("openid quotient_familial", &SpId::new("other"), &providers),
            Err(TransferNotAllowed { scope: "quotient_familial".into(), provider: DpId::new("caf") })
        );
        assert!(requested_transfers("openid profile", &SpId::new("other"), &providers).unwrap().is_empty());
    }
}
