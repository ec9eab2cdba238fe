//! The partner portal's rules: a service an organisation declares, the fields its agent types
//! and their checks (each refusal a field and a message key of the pages' catalogues, every
//! field checked at once so the form shows all that is wrong), and the sandbox client it gets
//! at once (a service provider of the hub restricted to the sandbox's identity providers).

pub mod request;
pub mod team;

use std::collections::BTreeMap;

use url::Url;

use crate::clock::UnixTime;
use crate::data::{DataProvider, DataTransfer};
use crate::eidas::EidasLevel;
use crate::ids::DpId;
use crate::ids::IdpId;
use crate::registration::{check_transport, ServiceProviderRegistration, TokenEndpointAuthMethod};
use crate::scopes::Claim;
use crate::{Profile, Secret};

/// The `client_id` of the partner portal (an agent service of the hub itself).
pub const PORTAL_CLIENT_ID: &str = "relais-partenaires";

/// The start of every sandbox client's `client_id`.
pub const SANDBOX_CLIENT_PREFIX: &str = "bac-a-sable-";

/// The start of every production client's `client_id` (a validated habilitation request's).
pub const PRODUCTION_CLIENT_PREFIX: &str = "svc-";

/// Whether `client_id` may be a production client of the portal (a configured service may
/// bear such an id too: the portal's store says).
pub fn may_be_production_client(client_id: &str) -> bool {
    client_id.starts_with(PRODUCTION_CLIENT_PREFIX)
}

/// Whether `client_id` is a sandbox client of the portal (not a live service: the public
/// catalogue leaves it out).
pub fn is_sandbox_client(client_id: &str) -> bool {
    client_id.starts_with(SANDBOX_CLIENT_PREFIX)
}

/// A service declared on the portal by an organisation.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PartnerService {
    /// Its id on the portal (in its pages' addresses).
    pub id: String,
    /// The organisation it belongs to: a SIREN (every agent of the organisation sees it).
    pub organisation: String,
    /// The organisation's name, as the agent's IdP gave it.
    pub organisation_label: String,
    /// What the agent declared.
    pub declaration: ServiceDeclaration,
    /// Its sandbox client's `client_id` at the hub.
    pub sandbox_client_id: String,
    /// Its production client's, once a request is validated.
    #[serde(default)]
    pub production_client_id: Option<String>,
    /// The agent who declared it (their agent `sub`): its first admin.
    pub created_by: String,
    /// Its team, invited by e-mail address (the declarer is an admin without being listed).
    #[serde(default)]
    pub members: Vec<team::Member>,
    /// Its clients' configuration versions (none published: the declaration's addresses).
    #[serde(default)]
    pub versions: Vec<team::ConfigVersion>,
    /// When.
    pub created_at: UnixTime,
}

/// The fields of a service, checked.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServiceDeclaration {
    /// Its name, shown to people.
    pub name: String,
    /// Its site.
    pub site: String,
    /// Where its sign-in starts (the page of its button: the QR code leads there).
    pub initiate_login_uri: String,
    /// Where people come back after signing in.
    pub redirect_uris: Vec<String>,
    /// Where people may go after signing out.
    pub post_logout_redirect_uris: Vec<String>,
    /// The identity claims it needs.
    pub claims: Vec<String>,
    /// The data it needs, each from its provider (received with the person's consent).
    #[serde(default)]
    pub data: Vec<DataTransfer>,
    /// The eIDAS level it needs at least.
    pub eidas_level: EidasLevel,
}

/// A service as its agent typed it in the form.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ServiceForm {
    /// Its name.
    pub name: String,
    /// Its site.
    pub site: String,
    /// Where its sign-in starts.
    pub initiate_login_uri: String,
    /// Redirect URIs, one per line.
    pub redirect_uris: String,
    /// Post-logout redirect URIs, one per line.
    pub post_logout_redirect_uris: String,
    /// The claims ticked.
    pub claims: Vec<String>,
    /// The data ticked, `dp:scope` each.
    pub data: Vec<String>,
    /// `eidas1`, `eidas2` or `eidas3`.
    pub eidas_level: String,
}

/// A field refused: the form's field and the key of its message (`portal.errors.<key>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The form's field.
    pub field: &'static str,
    /// The message's key.
    pub key: &'static str,
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|line| !line.is_empty()).map(str::to_owned).collect()
}

/// The key of what is wrong with `value` as an address of the service, if anything.
fn address_problem(value: &str, allow_other_schemes: bool) -> Option<&'static str> {
    let Ok(url) = Url::parse(value) else { return Some("not_an_address") };
    if check_transport("uri", &url, allow_other_schemes).is_err() {
        return Some("not_https");
    }
    if url.fragment().is_some() {
        return Some("fragment");
    }
    (value.len() > 2000).then_some("too_long")
}

impl ServiceForm {
    /// The declaration, or every field that is wrong; `offered` are the data providers whose
    /// data may be chosen.
    pub fn check(&self, offered: &[DataProvider]) -> Result<ServiceDeclaration, Vec<FieldError>> {
        let settings =
            team::ClientSettings::check(&self.initiate_login_uri, &self.redirect_uris, &self.post_logout_redirect_uris);
        let (settings, settings_errors) = match settings {
            Ok(settings) => (Some(settings), Vec::new()),
            Err(wrong) => (None, wrong),
        };
        let mut errors = Vec::new();
        let mut refuse = |field, key| errors.push(FieldError { field, key });
        let name = self.name.trim();
        if name.is_empty() {
            refuse("name", "required");
        } else if name.chars().count() > 200 || name.chars().any(char::is_control) {
            refuse("name", "too_long");
        }
        let site = self.site.trim();
        if site.is_empty() {
            refuse("site", "required");
        } else if let Some(key) = address_problem(site, false) {
            refuse("site", key);
        }
        for wrong in &settings_errors {
            refuse(wrong.field, wrong.key);
        }
        let mut claims = Vec::new();
        for claim in &self.claims {
            match Claim::ALL.into_iter().find(|known| known.name() == claim) {
                Some(known) if !claims.contains(&known.name().to_owned()) => claims.push(known.name().to_owned()),
                Some(_) => {}
                None => refuse("claims", "unknown_claim"),
            }
        }
        let mut data: Vec<DataTransfer> = Vec::new();
        for value in &self.data {
            let transfer = value.split_once(':').and_then(|(dp, scope)| {
                let provider = offered.iter().find(|provider| provider.id.as_str() == dp)?;
                provider.scope(scope)?;
                Some(DataTransfer { dp: provider.id.clone(), scope: scope.to_owned() })
            });
            match transfer {
                Some(transfer) if !data.contains(&transfer) => data.push(transfer),
                Some(_) => {}
                None => refuse("data", "unknown_data"),
            }
        }
        let eidas_level = EidasLevel::from_acr(self.eidas_level.trim());
        if eidas_level.is_none() {
            refuse("eidas_level", "level");
        }
        match eidas_level {
            Some(eidas_level) if errors.is_empty() => {
                let settings = settings.ok_or_else(Vec::new)?;
                Ok(ServiceDeclaration {
                    name: name.to_owned(),
                    site: site.to_owned(),
                    initiate_login_uri: settings.initiate_login_uri,
                    redirect_uris: settings.redirect_uris,
                    post_logout_redirect_uris: settings.post_logout_redirect_uris,
                    claims,
                    data,
                    eidas_level,
                })
            }
            _ => Err(errors),
        }
    }
}

impl ServiceDeclaration {
    /// The data it needs, by provider: what its clients are granted.
    pub fn grants(&self) -> BTreeMap<DpId, Vec<String>> {
        let mut grants: BTreeMap<DpId, Vec<String>> = BTreeMap::new();
        for transfer in &self.data {
            grants.entry(transfer.dp.clone()).or_default().push(transfer.scope.clone());
        }
        grants
    }

    /// The registration of its sandbox client `client_id` with `secret`, offered only the
    /// sandbox's identity providers (its test people), signing its ID tokens with ES256 (the
    /// smaller and faster choice, which every maintained library verifies).
    pub fn sandbox_client(
        &self,
        client_id: &str,
        secret: Secret,
        sandbox_idps: &[IdpId],
    ) -> ServiceProviderRegistration {
        ServiceProviderRegistration {
            client_id: client_id.to_owned(),
            client_name: format!("{} (bac à sable)", self.name),
            token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
            client_secret: Some(secret),
            jwks: None,
            redirect_uris: self.redirect_uris.clone(),
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            scopes: std::iter::once("openid".to_owned()).chain(self.claims.iter().cloned()).collect(),
            id_token_signed_response_alg: crate::providers::IdTokenAlgorithm::ES256,
            sector_identifier: None,
            allowed_idps: Some(sandbox_idps.iter().map(ToString::to_string).collect()),
            denied_idps: None,
            minimum_eidas_level: Some(self.eidas_level),
            profile: Profile::Citizen,
            public_agents_only: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canteen() -> ServiceForm {
        ServiceForm {
            name: "Cantine de Trifouillis".into(),
            site: "https://trifouillis.example".into(),
            initiate_login_uri: "https://trifouillis.example/connexion".into(),
            redirect_uris: "https://trifouillis.example/retour\n\n  http://localhost:3000/cb  ".into(),
            post_logout_redirect_uris: String::new(),
            claims: vec!["given_name".into(), "family_name".into(), "given_name".into()],
            data: vec!["caf:quotient_familial".into()],
            eidas_level: "eidas1".into(),
        }
    }

    fn caf() -> DataProvider {
        DataProvider {
            id: DpId::new("caf"),
            name: "CAF".into(),
            scopes: vec![crate::DataScope {
                name: "quotient_familial".into(),
                label: "Quotient familial".into(),
                description: String::new(),
            }],
            secret: crate::SecretDigest::of("caf", &Secret::new("x".repeat(32))),
            signed_checktoken: false,
            allowed: BTreeMap::new(),
            about: Default::default(),
        }
    }

    #[test]
    fn a_town_halls_form_becomes_a_declaration() {
        let declaration = canteen().check(&[caf()]).unwrap();
        assert_eq!(declaration.grants()[&DpId::new("caf")], ["quotient_familial"]);
        assert_eq!(declaration.redirect_uris, ["https://trifouillis.example/retour", "http://localhost:3000/cb"]);
        assert_eq!(declaration.claims, ["given_name", "family_name"]);
        let client = declaration.sandbox_client("bac-a-sable-x", Secret::new("s".repeat(43)), &[IdpId::new("impots")]);
        let sp = client.register(&[IdpId::new("impots")]).unwrap();
        assert_eq!(sp.idp_policy, crate::IdpPolicy::AllowOnly(vec![IdpId::new("impots")]));
        assert_eq!(sp.scope_value(), "openid given_name family_name");
    }

    #[test]
    fn every_wrong_field_is_named_at_once() {
        let form = ServiceForm {
            name: " ".into(),
            site: "http://trifouillis.example".into(),
            initiate_login_uri: "pas une adresse".into(),
            redirect_uris: "https://trifouillis.example/retour#x".into(),
            post_logout_redirect_uris: String::new(),
            claims: vec!["password".into()],
            data: vec!["caf:revenus".into()],
            eidas_level: "eidas9".into(),
        };
        let errors = form.check(&[caf()]).unwrap_err();
        let found: Vec<(&str, &str)> = errors.iter().map(|e| (e.field, e.key)).collect();
        assert_eq!(
            found,
            [
                ("name", "required"),
                ("site", "not_https"),
                ("initiate_login_uri", "not_an_address"),
                ("redirect_uris", "fragment"),
                ("claims", "unknown_claim"),
                ("data", "unknown_data"),
                ("eidas_level", "level")
            ]
        );
        assert!(canteen().check(&[]).is_err(), "only the offered providers' data");
        let empty = ServiceForm::default().check(&[]).unwrap_err();
        assert!(empty.contains(&FieldError { field: "redirect_uris", key: "required" }));
    }
}
