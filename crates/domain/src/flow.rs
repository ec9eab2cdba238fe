//! The records of a sign-in as it moves through the hub, one type per stage, so a pending
//! authorization can never be mistaken for an authenticated session. They are kept only in
//! the ephemeral store, with a lifetime.

use std::collections::{BTreeMap, BTreeSet};

use crate::agent::{AgentClaim, AgentIdentity};

use crate::clock::UnixTime;
use crate::data::DataTransfer;
use crate::eidas::EidasLevel;
use crate::ids::{DpId, IdpId, SpId};
use crate::pairwise::{PairwiseSecret, PairwiseSub, PersonKey};
use crate::pivot::PivotIdentity;
use crate::profile::{Identity, Principal, Profile};
use crate::providers::{IdentityProvider, ServiceProvider};
use crate::scopes::ScopeSet;
use crate::values::{CodeChallenge, Digest, FlowId, Nonce, PkceVerifier, RedirectUri, Sid, State, UpstreamIdToken};

/// What `prompt` asks of the hub.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Prompt {
    /// No `prompt`: single sign-on when a session allows it.
    #[default]
    Default,
    /// `prompt=login`: a new upstream sign-in, whatever the session.
    Login,
    /// `prompt=none`: no page at all; `login_required` without a usable session.
    None,
}

/// A service provider's authorization request, validated.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuthorizationRequest {
    /// The SP.
    pub sp: SpId,
    /// Its redirect URI (one of the registered ones).
    pub redirect_uri: RedirectUri,
    /// Its `state`, returned unchanged.
    pub state: State,
    /// Its `nonce`, put in the ID token.
    pub nonce: Nonce,
    /// The scopes granted for this request.
    pub scopes: ScopeSet,
    /// The minimum level (from `acr_values` and the SP's registration).
    pub required_level: EidasLevel,
    /// The PKCE `S256` challenge, if sent.
    pub code_challenge: Option<CodeChallenge>,
    /// The `prompt` asked.
    pub prompt: Prompt,
    /// The IdP the SP suggests (`idp_hint`).
    pub idp_hint: Option<IdpId>,
    /// The maximum age of the person's sign-in, seconds (`max_age`).
    pub max_age: Option<u64>,
    /// The `sub` named by a valid `id_token_hint`: a session of someone else cannot serve.
    pub expected_sub: Option<PairwiseSub>,
    /// The data the SP asks for, each needing the person's consent.
    #[serde(default)]
    pub transfers: Vec<DataTransfer>,
    /// The languages the SP asks the pages to be shown in (`ui_locales`, BCP 47 tags in order
    /// of preference), as sent; the pages pick the first one they speak.
    #[serde(default)]
    pub ui_locales: Option<String>,
    /// For an agent service: the agent claims asked (one scope each).
    #[serde(default)]
    pub agent_claims: BTreeSet<AgentClaim>,
    /// The e-mail the service suggests (`login_hint`): an agent's routes them to their IdP.
    #[serde(default)]
    pub login_hint: Option<String>,
}

impl PendingConsent {
    /// The consent to ask for `request` in the session whose id digests to `session_digest`.
    pub fn ask(request: &AuthorizationRequest, session_digest: Digest, session: &AuthenticatedSession) -> Self {
        Self { request: request.clone(), session: session_digest, browser: session.browser.clone() }
    }

    /// The transfers asked that the person ticked (`accepted` holds `dp:scope` form values).
    pub fn granted(&self, accepted: &[String]) -> Vec<DataTransfer> {
        self.request.transfers.iter().filter(|t| accepted.contains(&t.form_value())).cloned().collect()
    }
}

/// A sign-in waiting for the person's consent to data transfers.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PendingConsent {
    /// The request.
    pub request: AuthorizationRequest,
    /// The digest of the session id the consent is asked in.
    pub session: Digest,
    /// A digest of the browser's binding cookie.
    pub browser: Digest,
}

/// An authorization request waiting for the person to sign in, bound to their browser.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PendingAuthorization {
    /// The request.
    pub request: AuthorizationRequest,
    /// A digest of the browser's binding cookie: the flow completes only in that browser.
    pub browser: Digest,
}

/// The hub's own sign-in request at an IdP, waiting for its callback; keyed by the hub's
/// `state` towards that IdP.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct UpstreamLogin {
    /// The pending authorization this sign-in serves.
    pub flow: FlowId,
    /// The IdP asked.
    pub idp: IdpId,
    /// The nonce sent to the IdP.
    pub nonce: Nonce,
    /// The PKCE verifier of the challenge sent to the IdP.
    pub pkce_verifier: PkceVerifier,
    /// The level the hub needs from this sign-in.
    pub required_level: EidasLevel,
    /// A digest of the browser's binding cookie.
    pub browser: Digest,
}

/// A person signed in at the hub: the only place where their identity lives.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct AuthenticatedSession {
    /// Who is signed in (and, under a mandate, who acts for them).
    pub principal: Principal,
    /// The IdP they used (never sent to an SP).
    pub idp: IdpId,
    /// The level reached.
    pub acr: EidasLevel,
    /// When they signed in at the IdP.
    pub auth_time: UnixTime,
    /// The IdP's ID token, for RP-initiated logout at the IdP.
    pub idp_id_token: UpstreamIdToken,
    /// The SPs reached in this session.
    pub sps: Vec<SpId>,
    /// A digest of the browser's binding cookie.
    pub browser: Digest,
    /// The session's id for the protocol: the tokens issued in it carry it, and are revoked
    /// with it at logout.
    pub sid: Sid,
}

impl UpstreamLogin {
    /// The hub's sign-in at `idp` for the pending authorization `flow`, with the `nonce` and
    /// PKCE verifier of its request there.
    pub fn start(
        flow: &FlowId,
        idp: &IdentityProvider,
        nonce: Nonce,
        pkce_verifier: PkceVerifier,
        pending: &PendingAuthorization,
    ) -> Self {
        Self {
            flow: flow.clone(),
            idp: idp.id.clone(),
            nonce,
            pkce_verifier,
            required_level: pending.request.required_level,
            browser: pending.browser.clone(),
        }
    }
}

impl AuthenticatedSession {
    /// The session opened by `login` completed at `idp` with a verified identity at `acr`,
    /// at `now`.
    pub fn open(
        identity: Identity,
        idp: &IdpId,
        acr: EidasLevel,
        now: UnixTime,
        idp_id_token: UpstreamIdToken,
        login: &UpstreamLogin,
        sid: Sid,
    ) -> Self {
        Self {
            principal: Principal::person(identity),
            idp: idp.clone(),
            acr,
            auth_time: now,
            idp_id_token,
            sps: Vec::new(),
            browser: login.browser.clone(),
            sid,
        }
    }

    /// The identity services see: the subject's.
    pub fn subject(&self) -> &Identity {
        &self.principal.subject
    }

    /// Remembers that the session reached `sp` (logout reaches the services of a session).
    pub fn record_service(&mut self, sp: &SpId) {
        if !self.sps.contains(sp) {
            self.sps.push(sp.clone());
        }
    }

    /// Whether this session may sign the person in to `sp` for `request` without a new sign-in
    /// (single sign-on): not with `prompt=login`, a level above the session's, a sign-in older
    /// than `max_age` (`max_age=0` always asks again), an `id_token_hint` naming someone else,
    /// or an IdP the SP does not accept, or that is no longer registered and enabled.
    pub fn serves(
        &self,
        request: &AuthorizationRequest,
        sp: &ServiceProvider,
        idps: &[IdentityProvider],
        now: UnixTime,
        secret: &PairwiseSecret,
    ) -> bool {
        let age = now.0.saturating_sub(self.auth_time.0);
        let same_person = request
            .expected_sub
            .as_ref()
            .is_none_or(|expected| &PairwiseSub::derive(secret, &sp.subject_sector(), self.subject()) == expected);
        request.prompt != Prompt::Login
            && self.subject().profile() == sp.profile
            && self.acr >= request.required_level
            && request.max_age.is_none_or(|max_age| max_age > 0 && age <= max_age)
            && same_person
            && sp.idp_policy.allows(&self.idp)
            && idps.iter().any(|idp| idp.id == self.idp && idp.enabled)
    }
}

/// An authorization code, waiting for the SP's token request.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct CodeGrant {
    /// The SP it was issued to.
    pub sp: SpId,
    /// The redirect URI it was sent to (the token request must repeat it).
    pub redirect_uri: RedirectUri,
    /// The PKCE challenge of the authorization request.
    pub code_challenge: Option<CodeChallenge>,
    /// The SP's nonce.
    pub nonce: Nonce,
    /// The released identity.
    pub grant: IdentityGrant,
    /// What data providers may give the SP with the access token.
    pub data: DataGrant,
    /// The session it was issued in.
    pub sid: Sid,
}

impl CodeGrant {
    /// The code of `request`, answered in `session` for the subject `sub` (`person` for the
    /// traces), with the consented transfers `granted`: the pivot identity goes with it only
    /// when a data provider will need it.
    pub fn issue(
        request: &AuthorizationRequest,
        session: &AuthenticatedSession,
        sub: PairwiseSub,
        person: &PersonKey,
        granted: &[DataTransfer],
    ) -> Self {
        let grant = IdentityGrant::new(sub, request, session.subject(), session.acr, session.auth_time);
        Self {
            sp: request.sp.clone(),
            redirect_uri: request.redirect_uri.clone(),
            code_challenge: request.code_challenge.clone(),
            nonce: request.nonce.clone(),
            grant,
            data: DataGrant {
                transfers: granted.to_vec(),
                pivot: if granted.is_empty() { None } else { session.subject().pivot().cloned() },
                person: person.clone(),
                idp: session.idp.clone(),
                agent: None,
            },
            sid: session.sid.clone(),
        }
    }

    /// The scopes of the sign-in's trace: the identity scopes, then the consented data scopes.
    pub fn traced_scopes(&self) -> Vec<String> {
        let mut scopes: Vec<String> = self.grant.scopes.iter().map(|s| s.name().to_owned()).collect();
        scopes.extend(self.grant.agent_claims.iter().map(|c| c.name().to_owned()));
        scopes.extend(self.data.transfers.iter().map(|t| t.scope.clone()));
        scopes
    }

    /// The `scope` of the token response: the identity scopes and the consented data scopes.
    pub fn granted_scope(&self) -> String {
        let mut scope = self.grant.scopes.to_request_value();
        for claim in &self.grant.agent_claims {
            scope.push(' ');
            scope.push_str(claim.name());
        }
        for transfer in &self.data.transfers {
            scope.push(' ');
            scope.push_str(&transfer.scope);
        }
        scope
    }

    /// Gives the agent of `session` access to the transfers of this code, each under its
    /// habilitation (`habilitations`: the habilitation id of each transfer's scope); `sub` is
    /// the agent's.
    pub fn for_agent(mut self, session: &AuthenticatedSession, habilitations: BTreeMap<String, String>) -> Self {
        if let Some(agent) = session.subject().agent() {
            if !self.data.transfers.is_empty() {
                let sub = self.grant.sub.clone();
                self.data.agent = Some(AgentAccess { agent: agent.clone(), sub, habilitations, citizen_service: None });
            }
        }
        self
    }

    /// The access token this code is redeemed for, at `now`, living `lifetime` seconds.
    pub fn redeem(&self, now: UnixTime, lifetime: u64) -> AccessGrant {
        AccessGrant {
            sp: self.sp.clone(),
            grant: self.grant.clone(),
            data: self.data.clone(),
            issued_at: now,
            expires_at: now.plus(lifetime),
            sid: self.sid.clone(),
        }
    }
}

/// What data providers may learn through checktoken about an access token: the transfers the
/// person consented to and, only when there is one, the pivot identity to find their record.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct DataGrant {
    /// The consented transfers.
    pub transfers: Vec<DataTransfer>,
    /// The person, for the providers to find their record (`None` without transfers).
    pub pivot: Option<PivotIdentity>,
    /// The person's key, for the traces of checktoken calls.
    pub person: PersonKey,
    /// The IdP used (for the traces).
    pub idp: IdpId,
    /// For an agent's token: the agent and the habilitations their transfers rest on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentAccess>,
}

/// What a data provider learns of the agent holding a token, and under which habilitations.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct AgentAccess {
    /// The agent.
    pub agent: AgentIdentity,
    /// Their `sub` (the one agent sector's).
    pub sub: PairwiseSub,
    /// The habilitation of each transfer, by the transfer's scope (checked again when a data
    /// provider asks: a habilitation may end meanwhile).
    pub habilitations: BTreeMap<String, String>,
    /// For a token about a person: the citizen service where their file is (its habilitations
    /// must still instruct that service's files when a data provider asks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citizen_service: Option<SpId>,
}

impl DataGrant {
    /// The consented scopes of data provider `dp`.
    pub fn scopes_of<'a>(&'a self, dp: &'a DpId) -> impl Iterator<Item = String> + 'a {
        self.transfers.iter().filter(move |t| &t.dp == dp).map(|t| t.scope.clone())
    }
}

/// What an SP may learn about the person, from one sign-in.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IdentityGrant {
    /// The pairwise subject for this SP.
    pub sub: PairwiseSub,
    /// The scopes granted.
    pub scopes: ScopeSet,
    /// The claims released, by name (from the scopes).
    pub claims: BTreeMap<String, String>,
    /// For an agent: the agent claims granted (one scope each).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub agent_claims: BTreeSet<AgentClaim>,
    /// The federation of the sign-in: its tokens are good at that federation's endpoints only.
    #[serde(default)]
    pub profile: Profile,
    /// The level reached.
    pub acr: EidasLevel,
    /// When the person signed in upstream.
    pub auth_time: UnixTime,
}

impl IdentityGrant {
    /// The grant of `identity` under the scopes of `request` for the subject `sub`.
    pub fn new(
        sub: PairwiseSub,
        request: &AuthorizationRequest,
        identity: &Identity,
        acr: EidasLevel,
        auth_time: UnixTime,
    ) -> Self {
        let scopes = request.scopes.clone();
        let mut claims: BTreeMap<String, String> = scopes
            .claims()
            .into_iter()
            .filter_map(|claim| identity.claim(claim).map(|value| (claim.name().to_owned(), value)))
            .collect();
        if let Some(agent) = identity.agent() {
            claims.extend(
                request.agent_claims.iter().filter_map(|c| c.value_of(agent).map(|v| (c.name().to_owned(), v))),
            );
        }
        let profile = identity.profile();
        Self { sub, scopes, claims, agent_claims: request.agent_claims.clone(), profile, acr, auth_time }
    }
}

/// An issued access token, as the hub remembers it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct AccessGrant {
    /// The SP holding it.
    pub sp: SpId,
    /// What it gives access to.
    pub grant: IdentityGrant,
    /// What data providers may learn with it.
    pub data: DataGrant,
    /// When it was issued.
    pub issued_at: UnixTime,
    /// When it expires.
    pub expires_at: UnixTime,
    /// The session it was issued in: it dies with it at logout.
    pub sid: Sid,
}

/// The mark a logout leaves: the tokens of session `sid` are revoked. Kept as long as a token
/// of that session may live.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct EndedSession;

/// The trace of a redeemed code, kept for the code's lifetime so a replay revokes what the
/// code gave (RFC 6749, section 4.1.2).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RedeemedCode {
    /// The digest of the access token issued for the code.
    pub access_token_digest: Digest,
}
