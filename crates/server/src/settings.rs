//! The hub's own settings (lifetimes, issuer, secrets), as the binary's configuration gives them.

use relais_domain::{PairwiseSecret, Secret};
use relais_oidc::upstream::UpstreamTimeouts;
use url::Url;

/// Settings of the hub that are not actors.
#[derive(Clone, Debug)]
pub struct HubSettings {
    /// The public issuer URL; every endpoint is under it.
    pub issuer: Url,
    /// Lifetime of an authorization code, seconds (at most 60).
    pub code_lifetime: u64,
    /// Lifetime of an access token, seconds.
    pub access_token_lifetime: u64,
    /// How long a person reference may be exchanged, seconds.
    pub person_reference_lifetime: u64,
    /// Lifetime of an ID token, seconds.
    pub id_token_lifetime: u64,
    /// Lifetime of a hub session (single sign-on), seconds.
    pub session_lifetime: u64,
    /// How long a person has to pick an IdP and sign in there, seconds.
    pub pending_lifetime: u64,
    /// The secret the pairwise `sub` is derived with.
    pub pairwise_secret: PairwiseSecret,
    /// The brand block of the pages.
    pub brand: Brand,
    /// How long the hub waits for an IdP.
    pub upstream_timeouts: UpstreamTimeouts,
    /// The bearer token of `/metrics` (none: not served).
    pub metrics_token: Option<Secret>,
    /// The organisation registry (none: agents' organisations are not known).
    pub organisation_registry: Option<Url>,
    /// The credentials of the operator admin API (`/api/admin/`; none: no such API).
    pub operators: Vec<OperatorCredential>,
    /// The partner portal (`/partenaires`; none: no portal).
    pub portal: Option<PortalSettings>,
    /// Hands the hub's mail to the operator's SMTP relay (none: no mail is sent).
    pub mailer: Option<relais_mail::Mailer>,
    /// The national address base's search API, `api-adresse.data.gouv.fr`'s shape (none: no
    /// change of address).
    pub address_base: Option<Url>,
}

/// The partner portal's settings.
#[derive(Clone, Debug)]
pub struct PortalSettings {
    /// The identity providers of the sandbox (test people only): the only ones offered to the
    /// sandbox clients the portal makes.
    pub sandbox_identity_providers: Vec<relais_domain::IdpId>,
    /// The data providers whose data the sandbox clients may ask for (test data only).
    pub sandbox_data_providers: Vec<relais_domain::DpId>,
    /// Who instructs the habilitation requests.
    pub instructors: Vec<Instructor>,
}

/// An agent who instructs habilitation requests, by their professional e-mail address (as
/// their agent IdP proved it).
#[derive(Clone, Debug)]
pub struct Instructor {
    /// Their address.
    pub email: String,
    /// The data providers whose data they decide on.
    pub data_providers: Vec<relais_domain::DpId>,
    /// The operator's instructor: decides the identity part, so every request.
    pub operator: bool,
}

impl Instructor {
    /// Whether they decide a request for `data`.
    pub fn decides(&self, data: &[relais_domain::DataTransfer]) -> bool {
        self.operator || (!data.is_empty() && data.iter().all(|transfer| self.data_providers.contains(&transfer.dp)))
    }
}

/// One credential of the operator admin API: a name (the author of the changes it makes, in
/// the traces) and its bearer token.
#[derive(Clone, Debug)]
pub struct OperatorCredential {
    /// Who holds it (`ops`, `deploy`, a person's team name): traced with each change.
    pub name: String,
    /// The bearer token.
    pub token: Secret,
}

/// The brand block of the pages: configuration, since the State's Marianne block is reserved
/// to State websites.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Brand {
    /// The operator's name, in the header and the footer.
    pub operator_name: String,
    /// Whether the header and footer show the Marianne block ("République française").
    pub state_brand: bool,
    /// The support's e-mail address, shown on error pages with the reference to quote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub support_email: Option<String>,
    /// The support's web page, shown on error pages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub support_url: Option<String>,
}

impl Default for Brand {
    fn default() -> Self {
        Self { operator_name: "Relais".to_owned(), state_brand: false, support_email: None, support_url: None }
    }
}

impl HubSettings {
    /// Whether the hub is served over HTTPS (cookies are then `Secure` and `__Host-`).
    pub fn is_https(&self) -> bool {
        self.issuer.scheme() == "https"
    }
}
