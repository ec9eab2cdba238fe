//! The person's dashboard: they sign in to it through the hub like to any SP (a public client
//! of the hub with PKCE, a fresh sign-in each time), and its pairwise `sub` is their person key,
//! so it finds their traces and preferences without the hub keeping their identity. They see
//! where they signed in, with which account, which data went from which provider to which
//! service, and can block an identity provider for their account. Its sign-in exchanges the
//! code through step 5 inside the hub, as any service would over HTTP.

mod accesses;
pub mod moving;

pub use moving::DeliveryLine;

use std::collections::HashMap;

use relais_domain::trace::{TraceKind, TraceRecord};
use relais_domain::IdpId;
use relais_oidc::pkce::s256_challenge;
use relais_oidc::random::{digest, random_token};
use relais_oidc::token::RawTokenRequest;
use relais_store::Namespace;
use serde::{Deserialize, Serialize};
use url::Url;

use relais_domain::flow::AccessGrant;
use relais_domain::preferences::{accounts_to_block, BlockRefusal, NewAccounts, Preferences};
use relais_domain::step::StepEvent;
use relais_domain::values::Digest;
use relais_domain::PersonKey;

use super::support::{session as hub_session, Browser};
use super::token::token;
use crate::error::{ErrorPage, PageError};
use crate::state::AppState;

/// The dashboard's client id at the hub (reserved by the registration rules).
pub use relais_domain::registration::DASHBOARD_CLIENT_ID;
/// The dashboard's page.
pub const DASHBOARD_PATH: &str = "/tableau-de-bord";
/// Where the hub sends the person back to the dashboard after sign-in.
pub const DASHBOARD_CALLBACK_PATH: &str = "/tableau-de-bord/retour";
/// How long a dashboard session lives, seconds.
pub const DASHBOARD_SESSION_LIFETIME: u64 = 900;
/// How many events the history shows.
const HISTORY_LENGTH: u32 = 200;

#[derive(Serialize, Deserialize)]
struct DashboardLogin {
    nonce: String,
    verifier: String,
    browser: Digest,
}

/// A person signed in to their dashboard.
#[derive(Serialize, Deserialize)]
struct DashboardSession {
    person: String,
    given_name: Option<String>,
    csrf: String,
    browser: Digest,
    /// The account they signed in with: it cannot be blocked from this session.
    #[serde(default)]
    idp: Option<IdpId>,
    /// What the last change did, shown once on the next page.
    #[serde(default)]
    notice: Option<Notice>,
    /// The sealed person reference of the sign-in: what the `sub`s of the administrations told
    /// of a change of address are derived from.
    #[serde(default)]
    reference: Option<String>,
    /// The addresses the national base offered for the last search (the one confirmed must be
    /// one of them).
    #[serde(default)]
    candidates: Vec<crate::engine::notifications::address::Address>,
}

/// The outcome of the last change of preferences, confirmed on the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// Saved.
    Saved,
    /// Refused: the account of this session cannot be blocked.
    CurrentAccount,
    /// Refused: at least one account must stay allowed.
    NoAccountLeft,
    /// The new address is sent to the administrations chosen.
    Moved,
    /// Nothing sent: no address of the base was chosen.
    NoAddress,
    /// Nothing sent: no administration was chosen.
    NoRecipient,
}

impl Notice {
    /// The key of its message in the catalogues' `dashboard.notices`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Saved => "saved",
            Self::CurrentAccount => "current_account",
            Self::NoAccountLeft => "no_account_left",
            Self::Moved => "moved",
            Self::NoAddress => "no_address",
            Self::NoRecipient => "no_recipient",
        }
    }

    /// Whether it is a refusal.
    pub fn is_refusal(self) -> bool {
        !matches!(self, Self::Saved | Self::Moved)
    }
}

/// One line of the history.
#[derive(Serialize)]
pub struct HistoryLine {
    /// When (seconds since the epoch; the page formats it).
    pub at: u64,
    /// What happened: a key of the catalogues' `dashboard.events`.
    pub event: &'static str,
    /// The service.
    pub service: String,
    /// The account (IdP) used.
    pub account: String,
    /// The data provider.
    pub provider: String,
    /// The data.
    pub data: String,
    /// For an administration's access: the organisation that looked.
    pub organisation: String,
    /// For an administration's access: the legal basis it looked under, and where to read it.
    pub legal_basis: String,
    /// Where to read the legal basis.
    pub legal_basis_url: String,
}

/// One IdP in the preferences.
#[derive(Serialize)]
pub struct AccountChoice {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Whether the person blocked it.
    pub blocked: bool,
    /// Whether it is the account of this dashboard session (it cannot be blocked from here).
    pub current: bool,
}

/// What the dashboard shows.
#[derive(Serialize)]
pub struct DashboardView {
    /// Whether the person can declare a change of address here.
    pub moving: bool,
    /// The changes of address they sent, each administration's delivery and its state.
    pub deliveries: Vec<DeliveryLine>,
    /// The person's given name, to greet them.
    pub given_name: Option<String>,
    /// Their history, newest first.
    pub history: Vec<HistoryLine>,
    /// The transfers they consented to.
    pub consents: Vec<HistoryLine>,
    /// The administrations' accesses to their data, under a habilitation.
    pub accesses: Vec<HistoryLine>,
    /// The IdPs and whether they blocked each.
    pub accounts: Vec<AccountChoice>,
    /// Whether accounts added later are blocked until the person allows them.
    pub new_accounts_blocked: bool,
    /// The form's anti-forgery token.
    pub csrf: String,
    /// The outcome of the last change, to confirm: its message key, and whether it is a refusal.
    pub notice: Option<(&'static str, bool)>,
}

fn callback_url(state: &AppState) -> String {
    format!("{}{DASHBOARD_CALLBACK_PATH}", state.endpoints.issuer)
}

/// Sends the person to sign in to the dashboard through the hub; the URL to go to.
#[tracing::instrument(skip_all)]
pub async fn start_sign_in(state: &AppState, browser: &Browser) -> Result<String, PageError> {
    let (login_state, nonce, verifier) = (random_token(), random_token(), random_token());
    let login = DashboardLogin { nonce: nonce.clone(), verifier: verifier.clone(), browser: browser.binding.clone() };
    state.records.put(Namespace::DashboardLogin, &login_state, &login, state.settings.pending_lifetime).await?;
    let mut url = Url::parse(&state.endpoints.authorization).map_err(|_| PageError::Page(ErrorPage::BadRequest))?;
    url.query_pairs_mut()
        .append_pair("client_id", DASHBOARD_CLIENT_ID)
        .append_pair("redirect_uri", &callback_url(state))
        .append_pair("response_type", "code")
        .append_pair("scope", "openid given_name person_reference")
        .append_pair("state", &login_state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &s256_challenge(&verifier))
        .append_pair("code_challenge_method", "S256")
        .append_pair("prompt", "login");
    Ok(url.to_string())
}

/// The hub's answer to the dashboard's sign-in.
#[derive(Default, Deserialize)]
pub struct DashboardCallback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct DashboardIdToken {
    aud: String,
    sub: String,
    nonce: String,
    given_name: Option<String>,
    person_reference: Option<String>,
}

/// Completes the dashboard's sign-in (the code exchanged inside the hub, the ID token checked
/// as any SP would); the new dashboard session id.
#[tracing::instrument(skip_all)]
pub async fn callback(state: &AppState, callback: &DashboardCallback, browser: &Browser) -> Result<String, PageError> {
    let login: DashboardLogin = match callback.state.as_deref() {
        Some(value) => state.records.take(Namespace::DashboardLogin, value).await?,
        None => None,
    }
    .filter(|login: &DashboardLogin| browser.owns(&login.browser))
    .ok_or(PageError::Page(ErrorPage::SessionExpired))?;
    if callback.error.is_some() {
        return Err(PageError::Page(ErrorPage::SessionExpired));
    }
    let code = callback.code.clone().ok_or(PageError::Page(ErrorPage::BadRequest))?;
    let form = RawTokenRequest {
        grant_type: Some("authorization_code".into()),
        code: Some(code),
        redirect_uri: Some(callback_url(state)),
        code_verifier: Some(login.verifier),
        client_id: Some(DASHBOARD_CLIENT_ID.into()),
        ..Default::default()
    };
    let tokens = token(state, None, &form).await.map_err(|_| PageError::Page(ErrorPage::IdentityRejected))?;
    let id_token = tokens["id_token"].as_str().ok_or(PageError::Page(ErrorPage::IdentityRejected))?;
    // The account used, from the hub's own record of the token (the dashboard is the hub).
    let access = tokens["access_token"].as_str().unwrap_or_default();
    let grant: Option<AccessGrant> = state.records.get(Namespace::AccessToken, &digest(access)).await?;
    let claims: DashboardIdToken = state
        .keys()
        .verify_own(id_token, &state.endpoints.issuer)
        .map_err(|_| PageError::Page(ErrorPage::IdentityRejected))?;
    if claims.aud != DASHBOARD_CLIENT_ID || claims.nonce != login.nonce {
        return Err(PageError::Page(ErrorPage::IdentityRejected));
    }
    let session_id = random_token();
    let session = DashboardSession {
        person: claims.sub,
        given_name: claims.given_name,
        csrf: random_token(),
        browser: browser.binding.clone(),
        idp: grant.map(|grant| grant.data.idp),
        notice: None,
        reference: claims.person_reference,
        candidates: Vec::new(),
    };
    state.records.put(Namespace::DashboardSession, &digest(&session_id), &session, DASHBOARD_SESSION_LIFETIME).await?;
    Ok(session_id)
}

async fn session(
    state: &AppState,
    session_id: Option<&str>,
    browser: &Browser,
) -> Result<Option<DashboardSession>, PageError> {
    let Some(id) = session_id else { return Ok(None) };
    let session: Option<DashboardSession> = state.records.get(Namespace::DashboardSession, &digest(id)).await?;
    Ok(session.filter(|s| browser.owns(&s.browser)))
}

fn event_label(record: &TraceRecord) -> &'static str {
    let by_organisation = record.event.organisation.is_some();
    match (record.event.kind, record.event.outcome.as_str()) {
        (TraceKind::Checktoken, "active") if by_organisation => "agent_access",
        (TraceKind::Checktoken, _) if by_organisation => "agent_access_refused",
        (TraceKind::SignIn, _) => "sign_in",
        (TraceKind::ConsentGiven, _) => "consent_given",
        (TraceKind::ConsentRefused, _) => "consent_refused",
        (TraceKind::Checktoken, "active") => "data_sent",
        (TraceKind::Checktoken, _) => "data_refused",
        (TraceKind::Logout, _) => "logout",
        (TraceKind::Preferences, _) => "preferences",
        (TraceKind::AddressChange, _) => "address_change",
        (TraceKind::Notification, "delivered") => "notification_delivered",
        (TraceKind::Notification, "given_up") => "notification_given_up",
        (TraceKind::Notification, _) => "notification_queued",
        // Never under a person's key.
        (TraceKind::RegistryChange, _) => "registry_change",
    }
}

/// The dashboard of the signed-in person; `None` when they must sign in first.
#[tracing::instrument(skip_all)]
pub async fn view(
    state: &AppState,
    session_id: Option<&str>,
    browser: &Browser,
) -> Result<Option<DashboardView>, PageError> {
    let Some(mut session) = session(state, session_id, browser).await? else { return Ok(None) };
    let notice = session.notice.take();
    if notice.is_some() {
        if let Some(id) = session_id {
            let lifetime = DASHBOARD_SESSION_LIFETIME;
            state.records.put(Namespace::DashboardSession, &digest(id), &session, lifetime).await?;
        }
    }
    let records = state.traces.for_person(&session.person, HISTORY_LENGTH).await?;
    let idps = state.registry.identity_providers().await?;
    let providers = state.registry.data_providers().await?;
    let mut service_names: HashMap<String, String> = HashMap::new();
    for sp in records.iter().filter_map(|r| r.event.sp.clone()) {
        if let std::collections::hash_map::Entry::Vacant(entry) = service_names.entry(sp) {
            let id = relais_domain::SpId::new(entry.key().clone());
            let name = state.registry.service_provider(&id).await?.map_or_else(|| id.to_string(), |s| s.name);
            entry.insert(name);
        }
    }
    let accesses = accesses::Accesses::of(state, &records).await?;
    let idp_name = |id: &Option<String>| {
        id.as_ref()
            .map(|id| idps.iter().find(|i| i.id.as_str() == id).map_or(id.clone(), |i| i.display_name.clone()))
            .unwrap_or_default()
    };
    let line = |record: &TraceRecord| {
        let provider = record.event.dp.as_ref().and_then(|dp| providers.iter().find(|p| p.id.as_str() == dp));
        let data = record
            .event
            .scopes
            .iter()
            .filter_map(|scope| provider.and_then(|p| p.scope(scope)).map(|s| s.label.clone()))
            .collect::<Vec<_>>()
            .join(", ");
        let (legal_basis, legal_basis_url) = accesses.legal_basis(record).unwrap_or_default();
        let organisation = accesses.organisation(record);
        HistoryLine {
            at: record.event.at.0,
            event: event_label(record),
            // An administration's access: the organisation answers, not its tool or the agent.
            service: match &organisation {
                Some(name) => name.clone(),
                None => record.event.sp.as_ref().and_then(|sp| service_names.get(sp).cloned()).unwrap_or_default(),
            },
            account: if organisation.is_some() { String::new() } else { idp_name(&record.event.idp) },
            provider: provider.map(|p| p.name.clone()).unwrap_or_default(),
            data,
            organisation: organisation.unwrap_or_default(),
            legal_basis,
            legal_basis_url,
        }
    };
    let history = records.iter().filter(|r| r.event.sp.as_deref() != Some(DASHBOARD_CLIENT_ID)).map(line).collect();
    let deliveries = moving::deliveries(&records, &service_names);
    let consents = records.iter().filter(|r| r.event.kind == TraceKind::ConsentGiven).map(line).collect();
    let accesses = records.iter().filter(|r| event_label(r) == "agent_access").map(line).collect();
    let preferences = state.preferences.preferences(&session.person).await?;
    let accounts = idps
        .iter()
        .filter(|idp| idp.enabled)
        .map(|idp| AccountChoice {
            id: idp.id.to_string(),
            name: idp.display_name.clone(),
            blocked: preferences.blocks(&idp.id),
            current: session.idp.as_ref() == Some(&idp.id),
        })
        .collect();
    let notice = notice.map(|n| (n.key(), n.is_refusal()));
    let new_accounts_blocked = preferences.new_accounts == NewAccounts::Blocked;
    Ok(Some(DashboardView {
        moving: state.settings.address_base.is_some(),
        deliveries,
        given_name: session.given_name,
        history,
        consents,
        accesses,
        accounts,
        new_accounts_blocked,
        csrf: session.csrf,
        notice,
    }))
}

/// Records the IdPs the person blocks for their account, and what holds for accounts added
/// later.
#[tracing::instrument(skip_all)]
pub async fn set_blocked(
    state: &AppState,
    session_id: Option<&str>,
    browser: &Browser,
    csrf: &str,
    blocked: &[String],
    new_accounts: NewAccounts,
) -> Result<(), PageError> {
    let mut session = session(state, session_id, browser).await?.ok_or(PageError::Page(ErrorPage::SessionExpired))?;
    if !relais_domain::Secret::new(session.csrf.clone()).matches(csrf) {
        return Err(PageError::Page(ErrorPage::BadRequest));
    }
    let offered: Vec<IdpId> =
        state.registry.identity_providers().await?.into_iter().filter(|idp| idp.enabled).map(|idp| idp.id).collect();
    let asked: Vec<IdpId> = blocked.iter().map(|id| IdpId::new(id.as_str())).collect();
    session.notice = Some(match accounts_to_block(&offered, &asked, session.idp.as_ref()) {
        Ok(blocked) => {
            let preferences = Preferences { blocked: blocked.clone(), known: offered.clone(), new_accounts };
            state.preferences.set_preferences(&session.person, &preferences, state.clock.now().0).await?;
            // After the change is committed: sessions opened before it read the preferences again.
            hub_session::mark_preferences_changed(state, &session.person).await?;
            let person = PersonKey::from_stored(session.person.clone());
            state.tracer.emit(StepEvent::preferences(state.clock.now(), &person, &blocked)).await?;
            Notice::Saved
        }
        Err(refusal) => {
            state.tracer.emit(StepEvent::preferences_refused(refusal.as_str())).await?;
            match refusal {
                BlockRefusal::CurrentAccount => Notice::CurrentAccount,
                BlockRefusal::NoAccountLeft => Notice::NoAccountLeft,
            }
        }
    });
    if let Some(id) = session_id {
        state.records.put(Namespace::DashboardSession, &digest(id), &session, DASHBOARD_SESSION_LIFETIME).await?;
    }
    Ok(())
}

/// Whether `csrf` is the anti-forgery token of the dashboard session `session_id`.
pub async fn csrf_matches(state: &AppState, session_id: Option<&str>, csrf: &str) -> Result<bool, PageError> {
    let Some(id) = session_id else { return Ok(false) };
    let session: Option<DashboardSession> = state.records.get(Namespace::DashboardSession, &digest(id)).await?;
    Ok(session.is_some_and(|session| relais_domain::Secret::new(session.csrf).matches(csrf)))
}

/// Ends the dashboard session.
#[tracing::instrument(skip_all)]
pub async fn sign_out(state: &AppState, session_id: Option<&str>) -> Result<(), PageError> {
    if let Some(id) = session_id {
        state.records.delete(Namespace::DashboardSession, &digest(id)).await?;
    }
    Ok(())
}
