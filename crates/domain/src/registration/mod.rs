//! The registration rules: what makes a service provider, an identity provider or a data
//! provider acceptable to the hub, whoever registers it (the configuration file today, the
//! admin API and the partner portal next). Each rule names the registration field it is about,
//! with the names of OpenID Connect Dynamic Client Registration where there is one. Checks that
//! need the whole registry (an id already taken) are the caller's.

mod dp;
mod habilitation;
mod idp;
mod sp;

pub use dp::{DataProviderRegistration, DataScopeRegistration};
pub use habilitation::HabilitationRegistration;
pub use idp::IdentityProviderRegistration;
pub use sp::{ServiceProviderRegistration, TokenEndpointAuthMethod};
use url::Url;

/// The shortest secret accepted from a partner (a service provider, a data provider): a
/// generated credential, never a password.
pub const MINIMUM_SECRET_LENGTH: usize = 32;

/// The scopes the hub asks an identity provider for unless told otherwise: the pivot
/// identity's, the e-mail and the usual name.
pub const DEFAULT_IDP_SCOPES: &[&str] = &[
    "openid",
    "given_name",
    "family_name",
    "birthdate",
    "gender",
    "birthplace",
    "birthcountry",
    "email",
    "preferred_username",
];

/// The `client_id` of the hub's own dashboard (a public client of the hub): not for a partner.
pub const DASHBOARD_CLIENT_ID: &str = "relais-tableau-de-bord";

/// A registration refused: the field and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RegistrationError {
    /// The registration field (`redirect_uris`, `client_secret`, …).
    pub field: &'static str,
    /// What is wrong, for the person registering, in English.
    pub message: String,
    /// The same, in French (the admin API answers in the language asked for).
    pub message_fr: String,
}

pub(crate) fn refuse(
    field: &'static str,
    message: impl Into<String>,
    message_fr: impl Into<String>,
) -> RegistrationError {
    RegistrationError { field, message: message.into(), message_fr: message_fr.into() }
}

/// Whether `url` is on the loopback (a developer's machine).
pub fn is_loopback(url: &Url) -> bool {
    matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
}

/// `https`, or `http` on the loopback only (RFC 9700 section 2.6: no cleartext outside a
/// developer's machine). Other schemes (a native application's) only when `allow_other`.
pub fn check_transport(field: &'static str, url: &Url, allow_other: bool) -> Result<(), RegistrationError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(refuse(
            field,
            format!("`{url}` must be https (http is accepted on localhost only)"),
            format!("`{url}` doit être en https (http n'est accepté que sur localhost)"),
        )),
        _ if allow_other => Ok(()),
        other => Err(refuse(
            field,
            format!("`{url}`: scheme `{other}` is not https"),
            format!("`{url}` : le schéma `{other}` n'est pas https"),
        )),
    }
}

/// An identifier that appears in URLs: letters, digits, `-` and `_`.
pub(crate) fn check_url_safe_id(field: &'static str, id: &str) -> Result<(), RegistrationError> {
    if id.is_empty() {
        return Err(refuse(field, "is empty", "est vide"));
    }
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(refuse(
            field,
            "only letters, digits, `-` and `_` (it is part of the callback URL)",
            "uniquement des lettres, des chiffres, `-` et `_` (la valeur figure dans l'adresse de retour)",
        ));
    }
    Ok(())
}

/// The rule between an identity provider and the others registered (`others` without it): at
/// most one takes the agents' e-mails no other claims.
pub fn check_among_identity_providers(
    idp: &crate::IdentityProvider,
    others: &[crate::IdentityProvider],
) -> Result<(), RegistrationError> {
    if idp.agent_default && others.iter().any(|other| other.id != idp.id && other.agent_default) {
        return Err(refuse(
            "default_for_agents",
            "another agent identity provider is already the default",
            "un autre fournisseur d'identité des agents est déjà désigné par défaut",
        ));
    }
    Ok(())
}

/// The rule between a data provider and the others registered: a scope names one provider (a
/// service asks for it without naming the provider).
pub fn check_among_data_providers(
    dp: &crate::DataProvider,
    others: &[crate::DataProvider],
) -> Result<(), RegistrationError> {
    let others = || others.iter().filter(|other| other.id != dp.id);
    if let Some(taken) = dp.scopes.iter().find(|scope| others().any(|other| other.scope(&scope.name).is_some())) {
        return Err(refuse(
            "scopes",
            format!("`{}` is already served by another data provider", taken.name),
            format!("`{}` est déjà proposé par un autre fournisseur de données", taken.name),
        ));
    }
    Ok(())
}

/// A name shown to people: not blank, no control characters, at most 200 characters.
pub(crate) fn check_display_name(field: &'static str, name: &str) -> Result<(), RegistrationError> {
    if name.trim().is_empty() {
        return Err(refuse(field, "is empty", "est vide"));
    }
    if name.chars().any(char::is_control) || name.chars().count() > 200 {
        return Err(refuse(
            field,
            "at most 200 characters, without control characters",
            "200 caractères au plus, sans caractère de contrôle",
        ));
    }
    Ok(())
}

pub(crate) fn check_secret_length(field: &'static str, secret: &crate::Secret) -> Result<(), RegistrationError> {
    if secret.expose().len() < MINIMUM_SECRET_LENGTH {
        return Err(refuse(
            field,
            format!("must be at least {MINIMUM_SECRET_LENGTH} characters"),
            format!("doit faire au moins {MINIMUM_SECRET_LENGTH} caractères"),
        ));
    }
    Ok(())
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
