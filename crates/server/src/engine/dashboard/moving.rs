//! "Je déménage": from their dashboard, the person declares a new address once, checked
//! against the national address base, and chooses which of the administrations subscribed to
//! changes of address are told (nothing ticked for them). Each one chosen receives it as a
//! signed notification naming the person by the `sub` that administration already knows them
//! by (derived here from the sealed person reference of the dashboard's sign-in, never a shared
//! identifier); the others receive nothing. The declaration, each notification and its
//! delivery are records of the person's chain; the address itself is only in the sealed
//! payload, erased once delivered.

use relais_domain::step::{Recipient, StepEvent};
use relais_domain::webhook::{message_id, payload, EventKind, SubscriptionStatus};
use relais_domain::{PairwiseSub, PersonKey};
use relais_oidc::random::{digest, random_bytes};
use relais_store::{Namespace, NewMessage};
use serde::Serialize;

use std::collections::HashMap;

use relais_domain::trace::{TraceKind, TraceRecord};

use super::{event_label, session, Browser, DashboardSession, Notice, DASHBOARD_SESSION_LIFETIME};
use crate::engine::notifications::address::{self, Address, AddressError};
use crate::error::{ErrorPage, PageError};
use crate::state::AppState;

/// The page of the change of address.
pub const MOVING_PATH: &str = "/tableau-de-bord/demenagement";

/// An administration the person may tell.
#[derive(Clone, Debug, Serialize)]
pub struct Administration {
    /// The subscription's id (the form's value).
    pub id: String,
    /// The administration's name.
    pub name: String,
    /// What it says of itself.
    pub description: String,
}

/// What the page shows.
#[derive(Serialize)]
pub struct MovingView {
    /// What the person searched.
    pub query: String,
    /// The base's candidates for it.
    pub candidates: Vec<Address>,
    /// Why there is none to offer: a key of the catalogues' `moving.problems`.
    pub problem: Option<&'static str>,
    /// The administrations subscribed to changes of address.
    pub recipients: Vec<Administration>,
    /// The form's anti-forgery token.
    pub csrf: String,
    /// Why the last confirmation sent nothing: a key of the catalogues' `dashboard.notices`.
    pub notice: Option<&'static str>,
}

/// The administrations subscribed to changes of address, by name.
async fn recipients(
    state: &AppState,
) -> Result<Vec<(Administration, relais_domain::webhook::Subscription)>, PageError> {
    let mut found = Vec::new();
    for record in state.outbox.subscriptions().await? {
        let subscription = record.subscription;
        if record.status != SubscriptionStatus::Active || !subscription.receives(EventKind::AddressChanged) {
            continue;
        }
        let Some(sp) = state.registry.service_provider(&subscription.service).await? else { continue };
        let shown = Administration {
            id: subscription.id.clone(),
            name: sp.name,
            description: subscription.description.clone(),
        };
        found.push((shown, subscription));
    }
    found.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    Ok(found)
}

/// The page, after a search when `query` is given (else with the candidates of the last one);
/// `None` when the person must sign in first.
#[tracing::instrument(skip_all)]
pub async fn view(
    state: &AppState,
    session_id: Option<&str>,
    browser: &Browser,
    query: Option<&str>,
) -> Result<Option<MovingView>, PageError> {
    let (Some(id), Some(mut session)) = (session_id, session(state, session_id, browser).await?) else {
        return Ok(None);
    };
    let base = state.settings.address_base.as_ref().ok_or(PageError::Page(ErrorPage::NotFound))?;
    let notice = session.notice.take().filter(|notice| matches!(notice, Notice::NoAddress | Notice::NoRecipient));
    let (candidates, problem) = match query {
        None => (session.candidates.clone(), None),
        Some(query) => match address::search(base, query).await {
            Ok(found) if found.is_empty() => (found, Some("not_found")),
            Ok(found) => (found, None),
            Err(AddressError::BadQuery) => (Vec::new(), Some("bad_query")),
            Err(AddressError::Unavailable) => {
                tracing::warn!(target: "relais::moving", "the national address base did not answer");
                (Vec::new(), Some("unavailable"))
            }
        },
    };
    session.candidates = candidates.clone();
    state.records.put(Namespace::DashboardSession, &digest(id), &session, DASHBOARD_SESSION_LIFETIME).await?;
    let recipients = recipients(state).await?.into_iter().map(|(shown, _)| shown).collect();
    Ok(Some(MovingView {
        query: query.unwrap_or_default().trim().to_owned(),
        candidates,
        problem,
        recipients,
        csrf: session.csrf,
        notice: notice.map(Notice::key),
    }))
}

/// What the person confirmed.
pub struct Confirmation<'a> {
    /// The form's anti-forgery token.
    pub csrf: &'a str,
    /// The base's key of the address chosen among the candidates offered.
    pub address: &'a str,
    /// The subscriptions chosen.
    pub recipients: &'a [String],
}

/// Sends the new address to the administrations chosen: one transaction writes the records of
/// the person's chain and one message per administration (the sender delivers them). Without
/// an address offered or an administration chosen, nothing is sent and the page says so.
#[tracing::instrument(skip_all)]
pub async fn confirm(
    state: &AppState,
    session_id: Option<&str>,
    browser: &Browser,
    confirmation: &Confirmation<'_>,
) -> Result<Notice, PageError> {
    let id = session_id.ok_or(PageError::Page(ErrorPage::SessionExpired))?;
    let mut session = session(state, session_id, browser).await?.ok_or(PageError::Page(ErrorPage::SessionExpired))?;
    if !relais_domain::Secret::new(session.csrf.clone()).matches(confirmation.csrf) {
        return Err(PageError::Page(ErrorPage::BadRequest));
    }
    let notice = send(state, &session, confirmation).await?;
    if notice == Notice::Moved {
        session.candidates.clear();
    }
    session.notice = Some(notice);
    state.records.put(Namespace::DashboardSession, &digest(id), &session, DASHBOARD_SESSION_LIFETIME).await?;
    Ok(notice)
}

async fn send(
    state: &AppState,
    session: &DashboardSession,
    confirmation: &Confirmation<'_>,
) -> Result<Notice, PageError> {
    let Some(address) = session.candidates.iter().find(|a| a.id == confirmation.address) else {
        return Ok(Notice::NoAddress);
    };
    let chosen: Vec<_> = recipients(state)
        .await?
        .into_iter()
        .filter(|(shown, _)| confirmation.recipients.contains(&shown.id))
        .map(|(_, subscription)| subscription)
        .collect();
    if chosen.is_empty() {
        return Ok(Notice::NoRecipient);
    }
    let pivot = session
        .reference
        .as_deref()
        .and_then(|sealed| super::super::exchange::open(state, sealed))
        .filter(|reference| reference.is_live(state.clock.now()))
        .map(|reference| reference.pivot)
        .ok_or(PageError::Page(ErrorPage::SessionExpired))?;
    let now = state.clock.now();
    let mut messages = Vec::with_capacity(chosen.len());
    let mut subs = Vec::with_capacity(chosen.len());
    for subscription in &chosen {
        let Some(sp) = state.registry.service_provider(&subscription.service).await? else { continue };
        let sub = PairwiseSub::derive(&state.settings.pairwise_secret, &sp.subject_sector(), &pivot);
        let data = serde_json::json!({ "sub": sub.as_str(), "address": address });
        let body = payload(EventKind::AddressChanged, now, data).to_string();
        messages.push(NewMessage {
            id: message_id(random_bytes()),
            subscription: subscription.id.clone(),
            kind: EventKind::AddressChanged,
            person: Some(session.person.clone()),
            payload: body,
            at: now.0,
        });
        subs.push((sp.id, sub));
    }
    let to: Vec<Recipient<'_>> =
        messages.iter().zip(&subs).map(|(message, (sp, sub))| Recipient { sp, sub, message: &message.id }).collect();
    let person = PersonKey::from_stored(session.person.clone());
    state.tracer.emit_with_messages(StepEvent::address_changed(now, &person, &to), &messages).await?;
    Ok(Notice::Moved)
}

/// One notification of a change of address and where it stands.
#[derive(Serialize)]
pub struct DeliveryLine {
    /// When the person sent it.
    pub at: u64,
    /// The administration.
    pub service: String,
    /// Where it stands: `notification_queued`, `notification_delivered` or
    /// `notification_given_up` (keys of the catalogues' `dashboard.events`).
    pub state: &'static str,
    /// When it got there.
    pub updated_at: u64,
}

/// The notifications of `records` (newest first), one line each with its latest state.
pub(super) fn deliveries(records: &[TraceRecord], service_names: &HashMap<String, String>) -> Vec<DeliveryLine> {
    let mut lines: Vec<(String, DeliveryLine)> = Vec::new();
    for record in records.iter().rev().filter(|r| r.event.kind == TraceKind::Notification) {
        let Some(message) = record.event.reference.clone() else { continue };
        let state = event_label(record);
        match lines.iter_mut().find(|(id, _)| *id == message) {
            Some((_, line)) => (line.state, line.updated_at) = (state, record.event.at.0),
            None => {
                let sp = record.event.sp.clone().unwrap_or_default();
                let service = service_names.get(&sp).cloned().unwrap_or(sp);
                let at = record.event.at.0;
                lines.push((message, DeliveryLine { at, service, state, updated_at: at }));
            }
        }
    }
    lines.into_iter().rev().map(|(_, line)| line).collect()
}
