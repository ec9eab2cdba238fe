//! Step 3b: consent to data transfers. After the sign-in, when the service asks for data, the
//! person sees which data, from which provider, goes to which service, and accepts or refuses
//! each transfer. Asked every time (no silent reuse); every answer is traced. Refusing still
//! signs the person in, without the data (handed to step 4 with the transfers given).

use relais_domain::flow::{AuthenticatedSession, PendingConsent};
use relais_domain::step::{StepEvent, Subject};
use relais_domain::PairwiseSub;
use relais_oidc::random::digest_of;
use relais_store::Namespace;
use serde::Serialize;

use super::code;
use super::support::{session, Browser, Next, Outcome};
use crate::error::{ErrorPage, PageError};
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

/// The consent page of a pending consent.
#[tracing::instrument(skip_all)]
pub async fn consent_page(state: &AppState, flow: &str, browser: &Browser) -> Result<ConsentView, PageError> {
    let pending: PendingConsent =
        session::pending(state, Namespace::Consent, flow, browser, |p: &PendingConsent| &p.browser).await?;
    let request = pending.request;
    let sp = session::service(state, &request.sp).await?;
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
                    id: t.form_value(),
                    label: scope.label.clone(),
                    description: scope.description.clone(),
                })
            })
            .collect();
        view.providers.push(ConsentProvider { name: provider.name.clone(), items });
    }
    Ok(view)
}

/// Step 3b: the person's answer. `accepted` holds the transfers they ticked, or `None` when
/// they refused them all. Each transfer asked is traced as given or refused, then the service
/// gets its code with the consented transfers only.
#[tracing::instrument(skip_all)]
pub async fn decide_consent(
    state: &AppState,
    flow: &str,
    accepted: Option<Vec<String>>,
    browser: &Browser,
) -> Result<Outcome, PageError> {
    // Read, check it is this browser's and this session's, and only then take it: a forged
    // post from another site (no cookies) must not use up the person's pending consent.
    let expired = || PageError::Page(ErrorPage::SessionExpired);
    let session_id = browser.session_id.clone().ok_or_else(expired)?;
    let owned = |p: &PendingConsent| browser.owns(&p.browser) && p.session == digest_of(&session_id);
    state.records.get(Namespace::Consent, flow).await?.filter(owned).ok_or_else(expired)?;
    let pending: PendingConsent =
        state.records.take(Namespace::Consent, flow).await?.filter(owned).ok_or_else(expired)?;
    let mut live: AuthenticatedSession = state
        .records
        .get(Namespace::Session, pending.session.as_str())
        .await?
        .ok_or(PageError::Page(ErrorPage::SessionExpired))?;
    let sp = session::service(state, &pending.request.sp).await?;
    let granted = pending.granted(&accepted.unwrap_or_default());

    let person = session::person_of(state, &live);
    let sub = PairwiseSub::derive(&state.settings.pairwise_secret, &sp.subject_sector(), live.subject());
    let who = Subject { person: &person, sub: &sub, sp: &sp.id, idp: &live.idp };
    state.tracer.emit(StepEvent::consent(state.clock.now(), &who, &pending.request.transfers, &granted)).await?;
    let url = code::issue_code(state, &pending.request, &sp, &mut live, &granted).await?;
    session::save(state, &session_id, &live).await?;
    Ok(Next::Redirect(url).into())
}
