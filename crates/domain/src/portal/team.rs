//! Who works on a service, and its clients' configuration over time.
//!
//! **Members.** The agent who declares a service is its admin; an admin invites colleagues of
//! the same organisation by their professional e-mail address, each with a role (DataPass's and
//! FranceConnect's partner space's: admin, tech, contributor). The invitee signs in as an agent
//! with that address; an agent of the organisation who is not a member sees nothing of the
//! service, nor does an agent of another organisation, even invited.
//!
//! **Configuration versions.** A client's addresses (redirect, post-logout, sign-in start) are
//! versions per environment (sandbox, production): a change is a draft that takes effect when
//! published, one version is published per environment, the one it replaces is archived and
//! can be restored (published again, as a new version). Contributors write drafts; only a tech
//! or an admin publishes.

use super::request::is_email;
use super::{address_problem, lines, FieldError, PartnerService};
use crate::clock::UnixTime;

/// The most members a service has (its admins included).
pub const MAX_MEMBERS: usize = 50;

/// A member of a service's team.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Member {
    /// Their professional e-mail address, lowercase.
    pub email: String,
    /// Their role on the service.
    pub role: ServiceRole,
    /// Who invited them (`agent:<sub>`).
    pub invited_by: String,
    /// When.
    pub invited_at: UnixTime,
}

/// A role on a service (the portal's), for its agents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceRole {
    /// Writes drafts.
    Contributor,
    /// Writes drafts and the technical settings.
    Tech,
    /// Everything: sends, reopens, archives, invites.
    Admin,
}

impl ServiceRole {
    /// Every role, the strongest first.
    pub const ALL: [Self; 3] = [Self::Admin, Self::Tech, Self::Contributor];

    /// Its name in forms and pages' catalogues.
    pub fn id(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Tech => "tech",
            Self::Contributor => "contributor",
        }
    }

    /// The role named `id`.
    pub fn of(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.id() == id)
    }

    /// Whether it changes the clients: secrets, publishing a configuration.
    pub fn configures(self) -> bool {
        matches!(self, Self::Admin | Self::Tech)
    }

    /// Whether it manages the team and sends the habilitation requests.
    pub fn administers(self) -> bool {
        self == Self::Admin
    }
}

/// One of the two environments of a service's clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// The sandbox client (test identities, mock data).
    Sandbox,
    /// The production client (once a habilitation request is validated).
    Production,
}

impl Environment {
    /// Its name in forms.
    pub fn of(id: &str) -> Option<Self> {
        match id {
            "sandbox" => Some(Self::Sandbox),
            "production" => Some(Self::Production),
            _ => None,
        }
    }
}

/// Where a configuration version stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionState {
    /// Written, not in effect.
    Draft,
    /// In effect.
    Published,
    /// Replaced; may be restored.
    Archived,
}

/// A client's addresses.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClientSettings {
    /// Where people come back after signing in.
    pub redirect_uris: Vec<String>,
    /// Where people may go after signing out.
    pub post_logout_redirect_uris: Vec<String>,
    /// Where its sign-in starts (the QR code leads there).
    pub initiate_login_uri: String,
}

/// A version of a client's configuration.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConfigVersion {
    /// Its number in its environment, from 1.
    pub number: u32,
    /// Its environment.
    pub environment: Environment,
    /// Where it stands.
    pub state: VersionState,
    /// The addresses.
    pub settings: ClientSettings,
    /// Who wrote it (`agent:<sub>`).
    pub author: String,
    /// When it was written.
    pub at: UnixTime,
}

fn refusal(field: &'static str, key: &'static str) -> FieldError {
    FieldError { field, key }
}

impl ClientSettings {
    /// The settings typed in a form (addresses one per line), or every field that is wrong.
    pub fn check(
        initiate_login_uri: &str,
        redirect_uris: &str,
        post_logout_redirect_uris: &str,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let initiate_login_uri = initiate_login_uri.trim().to_owned();
        if initiate_login_uri.is_empty() {
            errors.push(refusal("initiate_login_uri", "required"));
        } else if let Some(key) = address_problem(&initiate_login_uri, false) {
            errors.push(refusal("initiate_login_uri", key));
        }
        let redirect_uris = lines(redirect_uris);
        let post_logout_redirect_uris = lines(post_logout_redirect_uris);
        if redirect_uris.is_empty() {
            errors.push(refusal("redirect_uris", "required"));
        }
        for (field, uris) in
            [("redirect_uris", &redirect_uris), ("post_logout_redirect_uris", &post_logout_redirect_uris)]
        {
            if uris.len() > 10 {
                errors.push(refusal(field, "too_many"));
            } else if let Some(key) = uris.iter().find_map(|uri| address_problem(uri, true)) {
                errors.push(refusal(field, key));
            }
        }
        if errors.is_empty() {
            Ok(Self { redirect_uris, post_logout_redirect_uris, initiate_login_uri })
        } else {
            Err(errors)
        }
    }
}

impl PartnerService {
    /// The role on this service of the agent `agent` (their `sub`) with `email`, signed in
    /// for `organisation` (a SIREN); none: they see nothing of it.
    pub fn role_of(&self, agent: &str, email: &str, organisation: &str) -> Option<ServiceRole> {
        if organisation != self.organisation {
            return None;
        }
        if agent == self.created_by {
            return Some(ServiceRole::Admin);
        }
        let email = email.trim().to_lowercase();
        self.members.iter().find(|member| member.email == email).map(|member| member.role)
    }

    /// Invites `email` with `role`, or changes a member's role; by an admin.
    pub fn invite(
        &mut self,
        by: ServiceRole,
        email: &str,
        role: Option<ServiceRole>,
        author: &str,
        at: UnixTime,
    ) -> Result<(), FieldError> {
        if !by.administers() {
            return Err(refusal("email", "not_allowed"));
        }
        let email = email.trim().to_lowercase();
        if email.is_empty() {
            return Err(refusal("email", "required"));
        }
        if !is_email(&email) || email.len() > 254 {
            return Err(refusal("email", "email"));
        }
        let role = role.ok_or(refusal("role", "role"))?;
        let admins = self.admins();
        if let Some(member) = self.members.iter_mut().find(|member| member.email == email) {
            if member.role == ServiceRole::Admin && role != ServiceRole::Admin && admins == 1 {
                return Err(refusal("email", "last_admin"));
            }
            member.role = role;
            return Ok(());
        }
        if self.members.len() >= MAX_MEMBERS {
            return Err(refusal("email", "too_many_members"));
        }
        self.members.push(Member { email, role, invited_by: author.to_owned(), invited_at: at });
        Ok(())
    }

    /// Takes `email` off the team; by an admin, never its last admin.
    pub fn remove_member(&mut self, by: ServiceRole, email: &str) -> Result<(), FieldError> {
        if !by.administers() {
            return Err(refusal("email", "not_allowed"));
        }
        let email = email.trim().to_lowercase();
        let index =
            self.members.iter().position(|member| member.email == email).ok_or(refusal("email", "not_member"))?;
        if self.members[index].role == ServiceRole::Admin && self.admins() == 1 {
            return Err(refusal("email", "last_admin"));
        }
        self.members.remove(index);
        Ok(())
    }

    fn admins(&self) -> usize {
        self.members.iter().filter(|member| member.role == ServiceRole::Admin).count()
    }

    /// The versions of `environment`, newest first.
    pub fn versions_of(&self, environment: Environment) -> Vec<&ConfigVersion> {
        let mut versions: Vec<_> = self.versions.iter().filter(|v| v.environment == environment).collect();
        versions.sort_by_key(|v| std::cmp::Reverse(v.number));
        versions
    }

    /// The settings in effect in `environment`: its published version's, else the declaration's.
    pub fn settings(&self, environment: Environment) -> ClientSettings {
        self.versions
            .iter()
            .find(|v| v.environment == environment && v.state == VersionState::Published)
            .map(|v| v.settings.clone())
            .unwrap_or_else(|| ClientSettings {
                redirect_uris: self.declaration.redirect_uris.clone(),
                post_logout_redirect_uris: self.declaration.post_logout_redirect_uris.clone(),
                initiate_login_uri: self.declaration.initiate_login_uri.clone(),
            })
    }

    /// The draft of `environment`, if one is being written.
    pub fn draft(&self, environment: Environment) -> Option<&ConfigVersion> {
        self.versions.iter().find(|v| v.environment == environment && v.state == VersionState::Draft)
    }

    fn next_number(&self, environment: Environment) -> u32 {
        self.versions.iter().filter(|v| v.environment == environment).map(|v| v.number).max().unwrap_or(0) + 1
    }

    /// Writes the draft of `environment` (replacing the one being written, if any); its number.
    pub fn write_draft(
        &mut self,
        environment: Environment,
        settings: ClientSettings,
        author: &str,
        at: UnixTime,
    ) -> u32 {
        let author = author.to_owned();
        if let Some(draft) =
            self.versions.iter_mut().find(|v| v.environment == environment && v.state == VersionState::Draft)
        {
            *draft = ConfigVersion { settings, author, at, ..draft.clone() };
            return draft.number;
        }
        let number = self.next_number(environment);
        self.versions.push(ConfigVersion { number, environment, state: VersionState::Draft, settings, author, at });
        number
    }

    /// Publishes version `number` of `environment` (its draft, or an archived one restored as
    /// a new version); by a tech or an admin. The settings now in effect.
    pub fn publish(
        &mut self,
        by: ServiceRole,
        environment: Environment,
        number: u32,
        author: &str,
        at: UnixTime,
    ) -> Result<ClientSettings, FieldError> {
        if !by.configures() {
            return Err(refusal("version", "not_allowed"));
        }
        let state = self
            .versions
            .iter()
            .find(|v| v.environment == environment && v.number == number)
            .map(|v| v.state)
            .ok_or(refusal("version", "no_version"))?;
        if state == VersionState::Published {
            return Err(refusal("version", "already_published"));
        }
        // The declaration's settings, in effect until a version is first published, are kept
        // as version 0, archived, so that they too can be restored.
        if !self.versions.iter().any(|v| v.environment == environment && v.state != VersionState::Draft) {
            let settings = self.settings(environment);
            let (author, at) = (format!("agent:{}", self.created_by), self.created_at);
            let state = VersionState::Archived;
            self.versions.push(ConfigVersion { number: 0, environment, state, settings, author, at });
        }
        for version in self.versions.iter_mut().filter(|v| v.environment == environment) {
            if version.state == VersionState::Published {
                version.state = VersionState::Archived;
            }
        }
        let index = self
            .versions
            .iter()
            .position(|v| v.environment == environment && v.number == number)
            .ok_or(refusal("version", "no_version"))?;
        let settings = self.versions[index].settings.clone();
        if state == VersionState::Draft {
            self.versions[index].state = VersionState::Published;
        } else {
            let number = self.next_number(environment);
            let (state, author) = (VersionState::Published, author.to_owned());
            self.versions.push(ConfigVersion { number, environment, state, settings: settings.clone(), author, at });
        }
        Ok(settings)
    }
}

#[cfg(test)]
#[path = "team_tests.rs"]
mod tests;
