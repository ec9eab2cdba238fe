//! The platform around the hub in the configuration file: the operators' credentials of the
//! admin API (`[[operators]]`) and the partner portal (`[portal]`).

use std::path::PathBuf;

use relais_domain::{IdentityProvider, IdpId};
use relais_server::OperatorCredential;
use serde::{Deserialize, Serialize};

use super::{env_variable, error, secret, ConfigError, Env};

/// `[[operators]]`: a credential of the operator admin API (`/api/admin/`, `relais admin`).
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorSection {
    /// Who holds it: the author of its changes in the traces.
    pub name: String,
    /// Its bearer token (at least 32 characters; `relais keys ephemeral-key` makes one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// A file holding it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
}

/// `[mail]`: the SMTP relay the hub hands its mail to (the partner portal's invitations and the
/// moves of habilitation requests); absent: no mail is sent, and the log says so.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MailSection {
    /// The relay: `smtps://user:password@host:465`, `smtp://host:587?tls=required` (STARTTLS)
    /// or `smtp://host:25` (no encryption: a relay on the same host or network, without
    /// credentials). Or `relay_file`, or `RELAIS_MAIL_RELAY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay: Option<String>,
    /// A file holding it (it may hold the relay's password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay_file: Option<PathBuf>,
    /// The sender: `Relais <ne-pas-repondre@relais.example>`.
    pub from: String,
}

/// The mailer of `[mail]`, if any.
pub(super) fn mail(section: Option<MailSection>, env: Env) -> Result<Option<relais_mail::Mailer>, ConfigError> {
    let Some(section) = section else { return Ok(None) };
    let relay = secret("mail.relay", &section.relay, &section.relay_file, "RELAIS_MAIL_RELAY", env)?
        .ok_or_else(|| error("mail.relay", "is required (or relay_file, or RELAIS_MAIL_RELAY)"))?;
    relais_mail::Mailer::new(relay.expose(), &section.from).map(Some).map_err(|failure| match failure {
        relais_mail::MailError::Address(_) => error("mail.from", failure.to_string()),
        _ => error("mail.relay", failure.to_string()),
    })
}

/// `[portal]`: the partner portal, where organisations' agents declare their services.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PortalSection {
    /// The citizen identity providers of the sandbox (test people only): the only ones the
    /// sandbox clients are offered.
    pub sandbox_identity_providers: Vec<String>,
    /// The data providers of the sandbox (test data only), whose data the sandbox clients may
    /// ask for.
    #[serde(default)]
    pub sandbox_data_providers: Vec<String>,
    /// Who instructs the habilitation requests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instructors: Vec<InstructorSection>,
}

/// `[[portal.instructors]]`: an agent who instructs habilitation requests.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InstructorSection {
    /// Their professional e-mail address.
    pub email: String,
    /// The data providers whose data they decide on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_providers: Vec<String>,
    /// The operator's instructor (the identity part: every request).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub operator: bool,
}

/// The operators' credentials: a name each (unique, URL-safe), a token of 32 characters at
/// least, from the file, a `token_file` or `RELAIS_OPERATOR_<NAME>_TOKEN`.
pub(super) fn operators(sections: Vec<OperatorSection>, env: Env) -> Result<Vec<OperatorCredential>, ConfigError> {
    let mut operators: Vec<OperatorCredential> = Vec::new();
    for (index, section) in sections.into_iter().enumerate() {
        let field = |name: &str| format!("operators[{index}].{name}");
        let url_safe = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if section.name.is_empty() || !section.name.chars().all(url_safe) {
            return Err(error(field("name"), "only letters, digits, `-` and `_`"));
        }
        if operators.iter().any(|known| known.name == section.name) {
            return Err(error(field("name"), format!("`{}` is not unique", section.name)));
        }
        let env_var = env_variable("OPERATOR", &section.name, "TOKEN");
        let token = secret(&field("token"), &section.token, &section.token_file, &env_var, env)?
            .ok_or_else(|| error(field("token"), format!("is required (or token_file, or {env_var})")))?;
        if token.expose().len() < 32 {
            return Err(error(field("token"), "must be at least 32 characters"));
        }
        operators.push(OperatorCredential { name: section.name, token });
    }
    Ok(operators)
}

/// The portal's settings: its sandbox's identity providers are citizen IdPs of the file.
pub(super) fn portal(
    section: Option<PortalSection>,
    identity_providers: &[IdentityProvider],
    data_providers: &[relais_domain::DataProvider],
) -> Result<Option<relais_server::PortalSettings>, ConfigError> {
    let Some(section) = section else { return Ok(None) };
    let mut sandbox_identity_providers = Vec::new();
    for id in section.sandbox_identity_providers {
        let known = identity_providers
            .iter()
            .any(|idp| idp.id.as_str() == id && idp.profile == relais_domain::Profile::Citizen);
        if !known {
            return Err(error(
                "portal.sandbox_identity_providers",
                format!("`{id}` is not a citizen identity provider of this file"),
            ));
        }
        sandbox_identity_providers.push(IdpId::new(id));
    }
    if sandbox_identity_providers.is_empty() {
        return Err(error(
            "portal.sandbox_identity_providers",
            "name at least one (the sandbox's test people sign in there)",
        ));
    }
    let mut sandbox_data_providers = Vec::new();
    for id in section.sandbox_data_providers {
        if !data_providers.iter().any(|dp| dp.id.as_str() == id) {
            return Err(error("portal.sandbox_data_providers", format!("`{id}` is not a data provider of this file")));
        }
        sandbox_data_providers.push(relais_domain::DpId::new(id));
    }
    let mut instructors = Vec::new();
    for (index, instructor) in section.instructors.into_iter().enumerate() {
        let field = |name: &str| format!("portal.instructors[{index}].{name}");
        let email = instructor.email.trim().to_lowercase();
        if relais_domain::agent::EmailDomain::of_email(&email).is_err() {
            return Err(error(field("email"), "is not an e-mail address"));
        }
        let mut providers = Vec::new();
        for id in instructor.data_providers {
            if !data_providers.iter().any(|dp| dp.id.as_str() == id) {
                return Err(error(field("data_providers"), format!("`{id}` is not a data provider of this file")));
            }
            providers.push(relais_domain::DpId::new(id));
        }
        if providers.is_empty() && !instructor.operator {
            return Err(error(
                field("data_providers"),
                "name the data providers they instruct for, or set operator = true",
            ));
        }
        instructors.push(relais_server::Instructor { email, data_providers: providers, operator: instructor.operator });
    }
    Ok(Some(relais_server::PortalSettings { sandbox_identity_providers, sandbox_data_providers, instructors }))
}
