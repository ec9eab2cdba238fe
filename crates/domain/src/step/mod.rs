//! The steps of the flow as traced events: each step of the engine emits one [`StepEvent`],
//! built by one of the constructors below, and the tracer turns it into a structured log line
//! and, for what the person must be able to see, into records of the hash chain. Nothing in an
//! event names the person but their keyed hashes (person key, pairwise `sub`).

use crate::clock::UnixTime;
use crate::data::DataTransfer;
use crate::eidas::EidasLevel;
use crate::ids::{ActorRef, DpId, IdpId, SpId};
use crate::pairwise::{PairwiseSub, PersonKey};
use crate::trace::{TraceEvent, TraceKind};

mod notifications;

pub use notifications::Recipient;

/// A step of the flow, as named in the logs (`step` field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Step 1: a service provider's authorization request.
    AuthorizationAsked,
    /// Step 2: the person chose an identity provider (the hub's request leaves for it).
    IdpChosen,
    /// Step 3: the identity provider's answer on the hub's callback.
    IdentityReceived,
    /// Step 3b: the person answered the consent page.
    Consent,
    /// Step 4: a code was issued (a sign-in to a service).
    CodeIssued,
    /// Step 5: the token endpoint.
    TokenIssued,
    /// Step 6: userinfo.
    Userinfo,
    /// A data provider asked checktoken about an access token.
    Checktoken,
    /// The hub session ended.
    Logout,
    /// The person changed their preferences on the dashboard.
    Preferences,
    /// The registry changed (admin API, partner portal).
    RegistryChange,
    /// The person declared a new address to the administrations they chose.
    AddressChange,
    /// A notification to an administration was delivered or given up.
    Notification,
}

impl Step {
    /// The step's name in the logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationAsked => "authorization_asked",
            Self::IdpChosen => "idp_chosen",
            Self::IdentityReceived => "identity_received",
            Self::Consent => "consent",
            Self::CodeIssued => "code_issued",
            Self::TokenIssued => "token_issued",
            Self::Userinfo => "userinfo",
            Self::Checktoken => "checktoken",
            Self::Logout => "logout",
            Self::Preferences => "preferences",
            Self::RegistryChange => "registry_change",
            Self::AddressChange => "address_change",
            Self::Notification => "notification",
        }
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one step did: the fields of its log line and the records it adds to the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepEvent {
    /// The step.
    pub step: Step,
    /// Its outcome (`ok`, an OAuth error code, a refusal kind, `active`, …).
    pub outcome: String,
    /// The service provider concerned.
    pub sp: Option<SpId>,
    /// The identity provider concerned.
    pub idp: Option<IdpId>,
    /// The data provider concerned.
    pub dp: Option<DpId>,
    /// The eIDAS level asked or reached.
    pub level: Option<EidasLevel>,
    /// A short detail for the operator (an upstream error code, counts), never personal data.
    pub detail: Option<String>,
    /// What the person will see in their history (empty for steps they need not see).
    pub records: Vec<TraceEvent>,
}

impl StepEvent {
    fn new(step: Step, outcome: impl Into<String>) -> Self {
        Self {
            step,
            outcome: outcome.into(),
            sp: None,
            idp: None,
            dp: None,
            level: None,
            detail: None,
            records: vec![],
        }
    }

    fn sp(mut self, sp: &SpId) -> Self {
        self.sp = Some(sp.clone());
        self
    }

    fn idp(mut self, idp: &IdpId) -> Self {
        self.idp = Some(idp.clone());
        self
    }

    /// The same event with a detail for the operator.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Whether the step succeeded (logged at `info`; others at `warn`).
    pub fn is_ok(&self) -> bool {
        matches!(self.outcome.as_str(), "ok" | "active" | "inactive" | "given" | "refused" | "queued" | "delivered")
    }

    /// Step 1 accepted: the request is valid, at least `level` is needed.
    pub fn authorization_asked(sp: &SpId, level: EidasLevel) -> Self {
        let mut event = Self::new(Step::AuthorizationAsked, "ok").sp(sp);
        event.level = Some(level);
        event
    }

    /// Step 1 refused, with the OAuth error code (or `not_redirectable`).
    pub fn authorization_refused(sp: &SpId, outcome: &str) -> Self {
        Self::new(Step::AuthorizationAsked, outcome).sp(sp)
    }

    /// Step 2: the hub's request leaves for `idp`.
    pub fn idp_chosen(sp: &SpId, idp: &IdpId) -> Self {
        Self::new(Step::IdpChosen, "ok").sp(sp).idp(idp)
    }

    /// Step 3 accepted: the identity provider's answer is verified, at `acr`.
    pub fn identity_received(sp: &SpId, idp: &IdpId, acr: EidasLevel) -> Self {
        let mut event = Self::new(Step::IdentityReceived, "ok").sp(sp).idp(idp);
        event.level = Some(acr);
        event
    }

    /// Step 3 refused: `outcome` says why (`idp_error`, a verification failure kind,
    /// `idp_blocked_by_person`, `mix_up`).
    pub fn identity_refused(sp: Option<&SpId>, idp: &IdpId, outcome: &str) -> Self {
        let mut event = Self::new(Step::IdentityReceived, outcome).idp(idp);
        event.sp = sp.cloned();
        event
    }

    /// Step 3b: the person consented to `granted` among `asked`; one record per transfer asked.
    pub fn consent(at: UnixTime, who: &Subject<'_>, asked: &[DataTransfer], granted: &[DataTransfer]) -> Self {
        let mut event = Self::new(Step::Consent, "ok").sp(who.sp).idp(who.idp);
        event.detail = Some(format!("asked={} given={}", asked.len(), granted.len()));
        event.records = asked
            .iter()
            .map(|transfer| {
                let given = granted.contains(transfer);
                TraceEvent {
                    at,
                    kind: if given { TraceKind::ConsentGiven } else { TraceKind::ConsentRefused },
                    person: Some(who.person.as_str().to_owned()),
                    sub: Some(who.sub.as_str().to_owned()),
                    sp: Some(who.sp.to_string()),
                    idp: Some(who.idp.to_string()),
                    dp: Some(transfer.dp.to_string()),
                    scopes: vec![transfer.scope.clone()],
                    outcome: if given { "given" } else { "refused" }.to_owned(),
                    organisation: None,
                    habilitation: None,
                    author: None,
                    reference: None,
                }
            })
            .collect();
        event
    }

    /// Step 4: a code was issued, the person signed in to the service with `scopes` at `acr`.
    pub fn code_issued(at: UnixTime, who: &Subject<'_>, acr: EidasLevel, scopes: Vec<String>) -> Self {
        let mut event = Self::new(Step::CodeIssued, "ok").sp(who.sp).idp(who.idp);
        event.level = Some(acr);
        event.records = vec![TraceEvent {
            at,
            kind: TraceKind::SignIn,
            person: Some(who.person.as_str().to_owned()),
            sub: Some(who.sub.as_str().to_owned()),
            sp: Some(who.sp.to_string()),
            idp: Some(who.idp.to_string()),
            dp: None,
            scopes,
            outcome: acr.as_acr().to_owned(),
            organisation: None,
            habilitation: None,
            author: None,
            reference: None,
        }];
        event
    }

    /// Step 5 accepted: tokens issued.
    pub fn token_issued(sp: &SpId, acr: EidasLevel) -> Self {
        let mut event = Self::new(Step::TokenIssued, "ok").sp(sp);
        event.level = Some(acr);
        event
    }

    /// Step 5 refused: `outcome` is the OAuth error code or `code_replayed`.
    pub fn token_refused(sp: Option<&SpId>, outcome: &str) -> Self {
        let mut event = Self::new(Step::TokenIssued, outcome);
        event.sp = sp.cloned();
        event
    }

    /// Step 6: userinfo served.
    pub fn userinfo(sp: &SpId) -> Self {
        Self::new(Step::Userinfo, "ok").sp(sp)
    }

    /// A checktoken answer to `dp`: active with `scopes`, or inactive. The record names the
    /// person only when the token was found.
    pub fn checktoken(
        at: UnixTime,
        dp: &DpId,
        token: Option<CheckedToken<'_>>,
        scopes: Vec<String>,
        active: bool,
    ) -> Self {
        let outcome = if active { "active" } else { "inactive" };
        let mut event = Self::new(Step::Checktoken, outcome);
        event.dp = Some(dp.clone());
        event.sp = token.as_ref().map(|t| t.sp.clone());
        event.idp = token.as_ref().map(|t| t.idp.clone());
        event.records = vec![TraceEvent {
            at,
            kind: TraceKind::Checktoken,
            person: token.as_ref().map(|t| t.person.to_owned()),
            sub: token.as_ref().and_then(|t| t.sub.map(|s| s.as_str().to_owned())),
            sp: token.as_ref().map(|t| t.sp.to_string()),
            idp: token.as_ref().map(|t| t.idp.to_string()),
            dp: Some(dp.to_string()),
            scopes,
            outcome: outcome.to_owned(),
            organisation: None,
            habilitation: None,
            author: None,
            reference: None,
        }];
        event
    }

    /// The checktoken of an agent's token about a person: its record also names the agent's
    /// establishment (`siret`) and the habilitations it was answered under (no agent).
    pub fn by_organisation(mut self, siret: &str, habilitations: &[&str]) -> Self {
        for record in &mut self.records {
            record.organisation = Some(siret.to_owned());
            record.habilitation = Some(habilitations.join(","));
        }
        self
    }

    /// The hub session of `person`, opened through `idp` and used at `sps`, ended (at the
    /// request of `sp` when one asked).
    pub fn logout(at: UnixTime, person: &PersonKey, idp: &IdpId, sp: Option<&SpId>, sps: usize) -> Self {
        let mut event = Self::new(Step::Logout, "ok").idp(idp);
        event.sp = sp.cloned();
        event.detail = Some(format!("sps={sps}"));
        event.records = vec![TraceEvent {
            at,
            kind: TraceKind::Logout,
            person: Some(person.as_str().to_owned()),
            sub: None,
            sp: sp.map(ToString::to_string),
            idp: Some(idp.to_string()),
            dp: None,
            scopes: vec![],
            outcome: "ok".to_owned(),
            organisation: None,
            habilitation: None,
            author: None,
            reference: None,
        }];
        event
    }

    /// The person now blocks `blocked` identity providers; a record of their history.
    pub fn preferences(at: UnixTime, person: &PersonKey, blocked: &[IdpId]) -> Self {
        let mut event = Self::new(Step::Preferences, "ok").with_detail(format!("blocked={}", blocked.len()));
        event.records = vec![TraceEvent {
            at,
            kind: TraceKind::Preferences,
            person: Some(person.as_str().to_owned()),
            sub: None,
            sp: None,
            idp: None,
            dp: None,
            scopes: blocked.iter().map(ToString::to_string).collect(),
            outcome: "ok".to_owned(),
            organisation: None,
            habilitation: None,
            author: None,
            reference: None,
        }];
        event
    }

    /// A change of the person's preferences refused (`outcome`: why).
    pub fn preferences_refused(outcome: &str) -> Self {
        Self::new(Step::Preferences, outcome)
    }

    /// `author` rotated the hub's signing keys, adding `kids`: a record of the chain naming the
    /// author (the keys are in the log line).
    pub fn keys_rotated(at: UnixTime, author: &str, kids: &[String]) -> Self {
        let mut event = Self::new(Step::RegistryChange, "ok").with_detail(format!("keys_rotated={}", kids.join(",")));
        event.records = vec![TraceEvent {
            at,
            kind: TraceKind::RegistryChange,
            person: None,
            sub: None,
            sp: None,
            idp: None,
            dp: None,
            scopes: vec![],
            outcome: "keys_rotated".to_owned(),
            organisation: None,
            habilitation: None,
            author: Some(author.to_owned()),
            reference: None,
        }];
        event
    }

    /// `author` made `change` (`added`, `replaced`, `removed`, `secret_renewed`) to `actor`: a
    /// record of the chain, under no person's key, naming the author.
    pub fn registry_change(at: UnixTime, author: &str, actor: ActorRef<'_>, change: &str) -> Self {
        let mut event = Self::new(Step::RegistryChange, "ok").with_detail(format!("{}={change}", actor.kind()));
        let name = |kind: &str| (actor.kind() == kind).then(|| actor.id().to_owned());
        event.sp = name("service_provider").map(SpId::new);
        event.idp = name("identity_provider").map(IdpId::new);
        event.dp = name("data_provider").map(DpId::new);
        event.records = vec![TraceEvent {
            at,
            kind: TraceKind::RegistryChange,
            person: None,
            sub: None,
            sp: name("service_provider"),
            idp: name("identity_provider"),
            dp: name("data_provider"),
            scopes: vec![],
            outcome: change.to_owned(),
            organisation: None,
            habilitation: name("habilitation"),
            author: Some(author.to_owned()),
            reference: None,
        }];
        event
    }
}

/// A record of `kind` with `outcome` at `at`, about nobody yet.
pub(crate) fn record(at: UnixTime, kind: TraceKind, outcome: &str) -> TraceEvent {
    TraceEvent {
        at,
        kind,
        person: None,
        sub: None,
        sp: None,
        idp: None,
        dp: None,
        scopes: vec![],
        outcome: outcome.to_owned(),
        organisation: None,
        habilitation: None,
        author: None,
        reference: None,
    }
}

/// Who a chained record is about, at which service, through which identity provider.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    /// The person's key (their traces are found by it).
    pub person: &'a PersonKey,
    /// Their pairwise `sub` at the service.
    pub sub: &'a PairwiseSub,
    /// The service.
    pub sp: &'a SpId,
    /// The identity provider of the session.
    pub idp: &'a IdpId,
}

/// What checktoken found about a token, for its record.
#[derive(Clone, Copy, Debug)]
pub struct CheckedToken<'a> {
    /// The person's key.
    pub person: &'a str,
    /// The `sub` the data provider gets, when the answer is active.
    pub sub: Option<&'a PairwiseSub>,
    /// The service holding the token.
    pub sp: &'a SpId,
    /// The identity provider of the sign-in.
    pub idp: &'a IdpId,
}

#[cfg(test)]
mod tests;
