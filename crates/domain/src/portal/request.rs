//! A service's request to go to production, and to receive data: DataPass's habilitation
//! request (`research/anchors.md` §4), its fields, its states and who moves it from one to the
//! next. `draft → submitted → changes_requested → validated | refused`, then `revoked`; a
//! validated request reopened keeps its validated habilitation live until the new version is
//! decided (validated: the new one replaces it; refused or the reopening cancelled: the old one
//! stays). Every move is kept in the request's history with its author and comment.

use url::Url;

use super::FieldError;
use crate::clock::UnixTime;
use crate::data::{DataProvider, DataTransfer};
use crate::eidas::EidasLevel;
use crate::registration::check_transport;

pub use super::team::ServiceRole;

/// Where a request stands (DataPass's states).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// Being written by the service's agents.
    Draft,
    /// Sent: the instructors decide.
    Submitted,
    /// Sent back to the applicant with the instructors' comment.
    ChangesRequested,
    /// Validated: the habilitation is live.
    Validated,
    /// Refused.
    Refused,
    /// Its habilitation was withdrawn.
    Revoked,
    /// Put away by the applicant (no live habilitation).
    Archived,
}

/// What moves a request (DataPass's events).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestEvent {
    /// The applicant sends it.
    Submit,
    /// An instructor sends it back for changes.
    RequestChanges,
    /// An instructor validates it.
    Approve,
    /// An instructor refuses it.
    Refuse,
    /// The applicant reopens a validated request to change it.
    Reopen,
    /// The applicant gives up the changes of a reopened request.
    CancelReopening,
    /// An instructor withdraws its habilitation.
    Revoke,
    /// The applicant puts away a request with no live habilitation.
    Archive,
}

impl RequestState {
    /// Every state, in the order of the life of a request.
    pub const ALL: [RequestState; 7] = [
        RequestState::Draft,
        RequestState::Submitted,
        RequestState::ChangesRequested,
        RequestState::Validated,
        RequestState::Refused,
        RequestState::Revoked,
        RequestState::Archived,
    ];

    /// Its name as serialised, stored and traced (DataPass's).
    pub fn name(self) -> &'static str {
        match self {
            RequestState::Draft => "draft",
            RequestState::Submitted => "submitted",
            RequestState::ChangesRequested => "changes_requested",
            RequestState::Validated => "validated",
            RequestState::Refused => "refused",
            RequestState::Revoked => "revoked",
            RequestState::Archived => "archived",
        }
    }

    /// The state of that name.
    pub fn named(name: &str) -> Option<RequestState> {
        RequestState::ALL.into_iter().find(|state| state.name() == name)
    }
}

impl RequestEvent {
    /// Its name as serialised and shown in a request's history.
    pub fn name(self) -> &'static str {
        match self {
            RequestEvent::Submit => "submit",
            RequestEvent::RequestChanges => "request_changes",
            RequestEvent::Approve => "approve",
            RequestEvent::Refuse => "refuse",
            RequestEvent::Reopen => "reopen",
            RequestEvent::CancelReopening => "cancel_reopening",
            RequestEvent::Revoke => "revoke",
            RequestEvent::Archive => "archive",
        }
    }
}

/// Who acts on a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// An agent of the applicant's service, with their role there.
    Applicant(ServiceRole),
    /// An instructor of the data provider concerned, or the operator for the identity part.
    Instructor,
}

/// The legal basis's kind (DataPass's `cadre_juridique_nature`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasisKind {
    /// A law or a code's article.
    Law,
    /// A decree.
    Decree,
    /// An order (arrêté).
    Order,
    /// A deliberation of a local council.
    Deliberation,
    /// Another text.
    Other,
}

/// A person to contact: their name and their professional e-mail address.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Contact {
    /// Their name.
    pub name: String,
    /// Their professional e-mail address.
    pub email: String,
}

/// The fields of a request (DataPass's blocks: basic infos, personal data, legal, scopes,
/// contacts, eIDAS level).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RequestForm {
    /// What the data is for.
    pub purpose: String,
    /// The legal basis's kind.
    pub legal_basis_kind: LegalBasisKind,
    /// Its reference (`Article L. 114-8 du code des relations entre le public et l'administration`).
    pub legal_basis: String,
    /// Where to read it.
    pub legal_basis_url: String,
    /// Who receives the personal data.
    pub recipients: String,
    /// How long they are kept, in months.
    pub retention_months: u32,
    /// Why, when longer than 36 months.
    pub retention_justification: String,
    /// The data asked, each from its provider.
    pub data: Vec<DataTransfer>,
    /// The data controller.
    pub controller: Contact,
    /// The data protection officer.
    pub dpo: Contact,
    /// The technical contact.
    pub technical_contact: Contact,
    /// The eIDAS level the service needs.
    pub eidas_level: EidasLevel,
}

/// The longest retention without a justification (DataPass's rule).
pub const RETENTION_WITHOUT_JUSTIFICATION: u32 = 36;

pub(crate) fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else { return false };
    !local.is_empty() && domain.contains('.') && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl RequestForm {
    /// Every field that is wrong, given the data providers whose data may be asked.
    pub fn check(&self, providers: &[DataProvider]) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut refuse = |field, key| errors.push(FieldError { field, key });
        for (field, value) in
            [("purpose", &self.purpose), ("legal_basis", &self.legal_basis), ("recipients", &self.recipients)]
        {
            if value.trim().is_empty() {
                refuse(field, "required");
            } else if value.chars().count() > 2000 {
                refuse(field, "too_long");
            }
        }
        match Url::parse(self.legal_basis_url.trim()) {
            Ok(url) if check_transport("legal_basis_url", &url, false).is_ok() => {}
            Ok(_) => refuse("legal_basis_url", "not_https"),
            Err(_) if self.legal_basis_url.trim().is_empty() => refuse("legal_basis_url", "required"),
            Err(_) => refuse("legal_basis_url", "not_an_address"),
        }
        if self.retention_months == 0 || self.retention_months > 120 {
            refuse("retention_months", "retention");
        } else if self.retention_months > RETENTION_WITHOUT_JUSTIFICATION
            && self.retention_justification.trim().is_empty()
        {
            refuse("retention_justification", "justification");
        }
        if self.data.is_empty() {
            refuse("data", "required");
        }
        let known = |transfer: &DataTransfer| {
            providers.iter().any(|dp| dp.id == transfer.dp && dp.scope(&transfer.scope).is_some())
        };
        if !self.data.iter().all(known) {
            refuse("data", "unknown_data");
        }
        for (field, contact) in
            [("controller", &self.controller), ("dpo", &self.dpo), ("technical_contact", &self.technical_contact)]
        {
            if contact.name.trim().is_empty() || contact.email.trim().is_empty() {
                refuse(field, "contact");
            } else if !is_email(contact.email.trim()) {
                refuse(field, "email");
            }
        }
        errors
    }
}

/// A request template for a common procedure: a town hall fills only its contacts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Template {
    /// The school canteen's price by family quotient (the CAF's `quotient_familial`).
    Canteen,
    /// The resident parking card (the postal address).
    ResidentCard,
}

impl Template {
    /// Every template.
    pub const ALL: [Self; 2] = [Self::Canteen, Self::ResidentCard];

    /// Its name in addresses and forms.
    pub fn id(self) -> &'static str {
        match self {
            Self::Canteen => "cantine",
            Self::ResidentCard => "carte-resident",
        }
    }

    /// The template named `id`.
    pub fn of(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|template| template.id() == id)
    }

    /// The scope of the data it asks for.
    pub fn scope(self) -> &'static str {
        match self {
            Self::Canteen => "quotient_familial",
            Self::ResidentCard => "adresse_postale",
        }
    }

    /// Its request, the contacts left empty; `dp` is the provider that serves its data.
    pub fn form(self, dp: &crate::DpId) -> RequestForm {
        let scope = self.scope();
        let (purpose, legal_basis_kind, legal_basis, url, recipients) = match self {
            Self::Canteen => (
                "Calculer le tarif de la cantine scolaire selon le quotient familial, sans demander d'attestation aux familles.",
                LegalBasisKind::Law,
                "Article L. 114-8 du code des relations entre le public et l'administration",
                "https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000043346953",
                "Le service enfance et restauration scolaire de la commune",
            ),
            Self::ResidentCard => (
                "Délivrer la carte de stationnement résident sur justificatif de domicile obtenu auprès de l'administration.",
                LegalBasisKind::Deliberation,
                "Délibération du conseil municipal instituant le tarif résident de stationnement",
                "https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000043346953",
                "Le service stationnement de la commune",
            ),
        };
        RequestForm {
            purpose: purpose.into(),
            legal_basis_kind,
            legal_basis: legal_basis.into(),
            legal_basis_url: url.into(),
            recipients: recipients.into(),
            retention_months: 12,
            retention_justification: String::new(),
            data: vec![DataTransfer { dp: dp.clone(), scope: scope.into() }],
            controller: Contact::default(),
            dpo: Contact::default(),
            technical_contact: Contact::default(),
            eidas_level: EidasLevel::Low,
        }
    }
}

/// A validated version of a request: what is live.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ValidatedVersion {
    /// Its number, from 1.
    pub version: u32,
    /// The request as validated.
    pub form: RequestForm,
    /// When.
    pub at: UnixTime,
}

/// One move of a request.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HistoryEntry {
    /// When.
    pub at: UnixTime,
    /// What.
    pub event: RequestEvent,
    /// Who (an agent's `sub`, or `operator:<name>`).
    pub author: String,
    /// The comment given (an instructor's reason).
    pub comment: Option<String>,
    /// The state it led to.
    pub state: RequestState,
}

/// A request, with its history.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HabilitationRequest {
    /// Its id.
    pub id: String,
    /// The portal service it is for.
    pub service: String,
    /// Where it stands.
    pub state: RequestState,
    /// The fields, as being written or as sent.
    pub form: RequestForm,
    /// The version live, if any (kept while a reopened request is decided).
    pub live: Option<ValidatedVersion>,
    /// Every move, oldest first.
    pub history: Vec<HistoryEntry>,
}

/// Why a move is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoveRefusal {
    /// Not from this state.
    #[error("this request cannot be moved so from where it stands")]
    NotFromHere,
    /// Not by this actor.
    #[error("this actor may not make this move")]
    NotAllowed,
    /// An instructor's move needs a comment saying why.
    #[error("a comment saying why is required")]
    CommentRequired,
    /// The request has wrong fields (submit).
    #[error("the request has fields to correct")]
    Incomplete,
}

impl HabilitationRequest {
    /// A new draft.
    pub fn draft(id: String, service: String, form: RequestForm) -> Self {
        Self { id, service, state: RequestState::Draft, form, live: None, history: Vec::new() }
    }

    /// Whether a reopened validated version is live while this one is decided.
    pub fn is_reopened(&self) -> bool {
        self.live.is_some() && !matches!(self.state, RequestState::Validated | RequestState::Revoked)
    }

    /// Whether `actor` may change the fields now (drafts and requests sent back).
    pub fn editable_by(&self, actor: Actor) -> bool {
        matches!(actor, Actor::Applicant(_))
            && matches!(self.state, RequestState::Draft | RequestState::ChangesRequested)
    }

    /// Makes `event` by `actor` (`author` in the history) at `at`; `errors` are the form's (a
    /// request with errors is not sent).
    pub fn apply(
        &mut self,
        event: RequestEvent,
        actor: Actor,
        author: &str,
        comment: Option<String>,
        errors: &[FieldError],
        at: UnixTime,
    ) -> Result<RequestState, MoveRefusal> {
        use RequestEvent as E;
        use RequestState as S;
        let admin = actor == Actor::Applicant(ServiceRole::Admin);
        let instructor = actor == Actor::Instructor;
        let comment = comment.filter(|c| !c.trim().is_empty());
        let allowed = match event {
            E::Submit | E::Reopen | E::CancelReopening | E::Archive => admin,
            E::RequestChanges | E::Approve | E::Refuse | E::Revoke => instructor,
        };
        if !allowed {
            return Err(MoveRefusal::NotAllowed);
        }
        if matches!(event, E::RequestChanges | E::Refuse | E::Revoke) && comment.is_none() {
            return Err(MoveRefusal::CommentRequired);
        }
        let next = match (event, self.state) {
            (E::Submit, S::Draft | S::ChangesRequested) if errors.is_empty() => S::Submitted,
            (E::Submit, S::Draft | S::ChangesRequested) => return Err(MoveRefusal::Incomplete),
            (E::RequestChanges, S::Submitted) => S::ChangesRequested,
            (E::Approve, S::Submitted | S::ChangesRequested) => {
                let version = self.live.as_ref().map_or(1, |live| live.version + 1);
                self.live = Some(ValidatedVersion { version, form: self.form.clone(), at });
                S::Validated
            }
            // A reopened request refused: the version validated before stays, as it was.
            (E::Refuse, S::Submitted | S::ChangesRequested) if self.live.is_some() => self.restore(),
            (E::Refuse, S::Submitted | S::ChangesRequested) => S::Refused,
            (E::Reopen, S::Validated) => S::Draft,
            (E::CancelReopening, S::Draft | S::Submitted | S::ChangesRequested) if self.is_reopened() => self.restore(),
            (E::Revoke, S::Validated) => {
                self.live = None;
                S::Revoked
            }
            (E::Revoke, _) if self.is_reopened() => {
                self.live = None;
                S::Revoked
            }
            (E::Archive, S::Draft | S::Refused | S::Revoked) if self.live.is_none() => S::Archived,
            _ => return Err(MoveRefusal::NotFromHere),
        };
        self.state = next;
        self.history.push(HistoryEntry { at, event, author: author.to_owned(), comment, state: next });
        Ok(next)
    }

    /// Back to the live version's fields, validated.
    fn restore(&mut self) -> RequestState {
        if let Some(live) = &self.live {
            self.form = live.form.clone();
        }
        RequestState::Validated
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
