//! Step 1b, agents only: the professional e-mail that routes an agent to the IdP of their
//! domain (ProConnect's routing): typed on the e-mail page or given by the service as
//! `login_hint`. One IdP serves the domain: there at once; several: the agent chooses among
//! them (step 2); none: the default IdP, if one is registered. The e-mail is not kept: the
//! IdP's answer is checked against its own domains at the callback. The IdP routed to gets it
//! as `login_hint` (Core 3.1.2.1), as ProConnect does, so the agent does not type it twice.

use relais_domain::agent::{route, AgentIdpRoute, EmailDomain, Routing};
use relais_domain::flow::PendingAuthorization;
use relais_domain::providers::eligible_idps;
use relais_domain::ServiceProvider;
use relais_store::Namespace;

use super::choose;
use super::support::{session, Browser, Next};
use crate::error::PageError;
use crate::state::AppState;

/// The first page of an agent's sign-in: routed at once by the service's `login_hint`, else
/// the e-mail page.
pub async fn first_page(
    state: &AppState,
    flow: &str,
    pending: &PendingAuthorization,
    sp: &ServiceProvider,
) -> Result<Next, PageError> {
    match &pending.request.login_hint {
        Some(hint) => route_to_idp(state, flow, pending, sp, hint).await,
        None => Ok(page(flow, pending, sp, None, None)),
    }
}

/// The agent typed `email` on the e-mail page of `flow`.
#[tracing::instrument(skip_all)]
pub async fn route_email(state: &AppState, flow: &str, email: &str, browser: &Browser) -> Result<Next, PageError> {
    let pending: PendingAuthorization =
        session::pending(state, Namespace::PendingAuthorization, flow, browser, |p: &PendingAuthorization| &p.browser)
            .await?;
    let sp = session::service(state, &pending.request.sp).await?;
    route_to_idp(state, flow, &pending, &sp, email.trim()).await
}

fn page(
    flow: &str,
    pending: &PendingAuthorization,
    sp: &ServiceProvider,
    email: Option<&str>,
    problem: Option<&'static str>,
) -> Next {
    Next::AgentEmail {
        flow: flow.to_owned(),
        service: sp.name.clone(),
        ui_locales: pending.request.ui_locales.clone(),
        email: email.map(|e| e.chars().take(320).collect()),
        problem,
    }
}

async fn route_to_idp(
    state: &AppState,
    flow: &str,
    pending: &PendingAuthorization,
    sp: &ServiceProvider,
    email: &str,
) -> Result<Next, PageError> {
    let Ok(domain) = EmailDomain::of_email(email) else {
        return Ok(page(flow, pending, sp, Some(email), Some("invalid")));
    };
    let idps = state.registry.identity_providers().await?;
    let eligible = eligible_idps(&idps, sp, pending.request.required_level);
    let routes: Vec<AgentIdpRoute> = eligible.iter().map(|idp| idp.agent_route()).collect();
    let chosen = match route(&domain, &routes) {
        Routing::One(id) | Routing::Default(id) => id,
        Routing::Several(ids) => {
            let serving: Vec<_> = eligible.iter().filter(|idp| ids.contains(&idp.id)).copied().collect();
            let idps = session::idp_choices(state, &serving, None);
            let (flow, service, ui_locales) = (flow.to_owned(), sp.name.clone(), pending.request.ui_locales.clone());
            return Ok(Next::Choice { flow, service, idps, ui_locales, failed: None });
        }
        Routing::Nowhere => return Ok(page(flow, pending, sp, Some(email), Some("nowhere"))),
    };
    let Some(idp) = eligible.iter().find(|idp| idp.id == chosen) else {
        return Ok(page(flow, pending, sp, Some(email), Some("nowhere")));
    };
    let url = with_login_hint(&choose::start_upstream(state, flow, pending, idp).await?, email);
    Ok(Next::ToIdp { url, idp: idp.id.to_string() })
}

/// `url`, the IdP's authorization request, with `login_hint=email` added.
fn with_login_hint(url: &str, email: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            parsed.query_pairs_mut().append_pair("login_hint", email);
            parsed.to_string()
        }
        Err(_) => url.to_owned(),
    }
}
