//! Consent to data transfers: after the sign-in, when the SP asks for data, the person sees
//! which data, from which provider, goes to which service, and accepts or refuses each
//! transfer. Asked every time (no silent reuse); every answer is traced. Refusing still signs
//! the person in, without the data.

use relais_domain::flow::{AuthenticatedSession, AuthorizationRequest, PendingConsent};
use relais_domain::trace::{TraceEvent, TraceKind};
use relais_domain::{DataTransfer, PairwiseSub, PersonKey, ServiceProvider};
use relais_oidc::random::{digest, random_token};
use relais_store::Namespace;
use serde::Serialize;

use super::{issue_code, record, save_session, Browser, Next, Outcome};
use crate::error::{AppError, ErrorPage};
use crate::state::AppState;

/// One transfer on the consent page.
#[derive(Debug, Serialize)]
pub struct ConsentItem {
    /// The form value, `dp:scope`.
    pub id: String,
    /// What the data is.
    pub label: String,
    /// A sentence on it.
    pub description: String,
}

/// The data of one provider on the consent page.
#[derive(Debug, Serialize)]
pub struct ConsentProvider {
    /// The provider's name.
    pub name: String,
    /// Its data asked for.
    pub items: Vec<ConsentItem>,
}

/// What the consent page shows.
#[derive(Debug, Serialize)]
pub struct ConsentView {
    /// The pending consent.
    pub flow: String,
    /// The SP's name.
    pub service: String,
    /// The data asked for, by provider.
    pub providers: Vec<ConsentProvider>,
    /// The SP's `ui_locales`, for the page's language.
    #[serde(skip)]
    pub ui_locales: Option<String>,
}

fn transfer_id(transfer: &DataTransfer) -> String {
    format!("{}:{}", transfer.dp, transfer.scope)
}

/// Ends a sign-in: a code at once when no data is asked, else the consent page.
pub(super) async fn complete_sign_in(
    state: &AppState,
    request: &AuthorizationRequest,
    sp: &ServiceProvider,
    session: &mut AuthenticatedSession,
    session_id: &str,
) -> Result<Next, AppError> {
    if request.transfers.is_empty() {
        return Ok(Next::Redirect(issue_code(state, request, sp, session, &[]).await?));
    }
    let flow = random_token();
    let pending =
        PendingConsent { request: request.clone(), session: digest(session_id), browser: session.browser.clone() };
    state.records.put(Namespace::Consent, &flow, &pending, state.settings.pending_lifetime).await?;
    // A page of its own, so that reloading it or coming back to it works.
    Ok(Next::Redirect(format!("{CONSENT_PATH}/{flow}")))
}

/// Where consent pages live.
pub const CONSENT_PATH: &str = "/consentement";

/// The consent page of a pending consent.
pub async fn consent_page(state: &AppState, flow: &str, browser: &Browser) -> Result<ConsentView, AppError> {
    let pending: PendingConsent = state
        .records
        .get(Namespace::Consent, flow)
        .await?
        .filter(|p: &PendingConsent| p.browser == browser.binding)
        .ok_or(AppError::Page(ErrorPage::SessionExpired))?;
    let request = pending.request;
    let sp = state.registry.service_provider(&request.sp).await?.ok_or(AppError::Page(ErrorPage::UnknownService))?;
    let providers = state.registry.data_providers().await?;
    let mut view = ConsentView {
        flow: flow.to_owned(),
        service: sp.name.clone(),
        providers: Vec::new(),
        ui_locales: request.ui_locales.clone(),
    };
    for provider in providers.iter().filter(|p| request.transfers.iter().any(|t| t.dp == p.id)) {
        let items = request
            .transfers
            .iter()
            .filter(|t| t.dp == provider.id)
            .filter_map(|t| {
                let scope = provider.scope(&t.scope)?;
                Some(ConsentItem {
                    id: transfer_id(t),
                    label: scope.label.clone(),
                    description: scope.description.clone(),
                })
            })
            .collect();
        view.providers.push(ConsentProvider { name: provider.name.clone(), items });
    }
    Ok(view)
}

/// The person's answer: `accepted` holds the transfers they ticked, or `None` when they refused
/// them all. Each transfer asked is traced as given or refused, then the SP gets its code with
/// the consented transfers only.
pub async fn decide_consent(
    state: &AppState,
    flow: &str,
    accepted: Option<Vec<String>>,
    browser: &Browser,
) -> Result<Outcome, AppError> {
    let pending: PendingConsent = state
        .records
        .take(Namespace::Consent, flow)
        .await?
        .filter(|p: &PendingConsent| p.browser == browser.binding)
        .ok_or(AppError::Page(ErrorPage::SessionExpired))?;
    let session_id = browser.session_id.clone().ok_or(AppError::Page(ErrorPage::SessionExpired))?;
    if digest(&session_id) != pending.session {
        return Err(AppError::Page(ErrorPage::SessionExpired));
    }
    let mut session: AuthenticatedSession = state
        .records
        .get(Namespace::Session, &pending.session)
        .await?
        .ok_or(AppError::Page(ErrorPage::SessionExpired))?;
    let request = pending.request;
    let sp = state.registry.service_provider(&request.sp).await?.ok_or(AppError::Page(ErrorPage::UnknownService))?;
    let accepted = accepted.unwrap_or_default();
    let granted: Vec<DataTransfer> =
        request.transfers.iter().filter(|t| accepted.contains(&transfer_id(t))).cloned().collect();

    let person = PersonKey::derive(&state.settings.pairwise_secret, &session.pivot);
    let sub = PairwiseSub::derive(&state.settings.pairwise_secret, &sp.sector, &session.pivot);
    for transfer in &request.transfers {
        let given = granted.contains(transfer);
        record(
            state,
            TraceEvent {
                at: state.clock.now(),
                kind: if given { TraceKind::ConsentGiven } else { TraceKind::ConsentRefused },
                person: Some(person.as_str().to_owned()),
                sub: Some(sub.as_str().to_owned()),
                sp: Some(sp.id.to_string()),
                idp: Some(session.idp.to_string()),
                dp: Some(transfer.dp.to_string()),
                scopes: vec![transfer.scope.clone()],
                outcome: if given { "given" } else { "refused" }.to_owned(),
            },
        )
        .await?;
    }
    tracing::info!(target: "relais::trace", step = "consent", sp = %sp.id, asked = request.transfers.len(), given = granted.len(), outcome = "ok", "consent answered");
    let url = issue_code(state, &request, &sp, &mut session, &granted).await?;
    save_session(state, &session_id, &session).await?;
    Ok(Next::Redirect(url).into())
}
