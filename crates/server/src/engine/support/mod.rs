//! What the steps share: the browser a request comes from, where the person goes next, the
//! hub session (load, save, the IdPs it may be offered), the SP redirect, and the tracer. No
//! step's logic lives here.

pub mod access;
pub mod session;
pub mod sp_redirect;
pub mod tracer;

use std::time::Instant;

use relais_domain::values::Digest;
use relais_domain::IdpId;
use relais_oidc::upstream::UpstreamError;

use crate::pages::IdpChoice;

/// The browser a request comes from: the digest of its binding cookie and its session id.
pub struct Browser {
    /// Digest of the binding cookie's value.
    pub binding: Digest,
    /// The hub session id from its cookie, if any.
    pub session_id: Option<String>,
    /// The IdP last chosen in this browser (its id only, from a cookie), shown first.
    pub last_idp: Option<String>,
}

impl Browser {
    /// Whether a record bound to the browser digest `bound_to` belongs to this browser.
    pub fn owns(&self, bound_to: &Digest) -> bool {
        bound_to == &self.binding
    }
}

/// Where the person goes next.
pub enum Next {
    /// A redirect (to the SP with a code, or to the consent page).
    Redirect(String),
    /// The choice page.
    Choice {
        /// The pending authorization.
        flow: String,
        /// The SP's name.
        service: String,
        /// The eligible IdPs.
        idps: Vec<IdpChoice>,
        /// The SP's `ui_locales`.
        ui_locales: Option<String>,
        /// The account that could not be used just now, when the person is back on the page
        /// because of it.
        failed: Option<String>,
    },
    /// The agents' first page: their professional e-mail, which routes them to their IdP.
    AgentEmail {
        /// The pending authorization.
        flow: String,
        /// The SP's name.
        service: String,
        /// The SP's `ui_locales`.
        ui_locales: Option<String>,
        /// The e-mail typed, shown again with the problem.
        email: Option<String>,
        /// What is wrong with it (a catalogue key of `agent_email`).
        problem: Option<&'static str>,
    },
    /// A redirect to an IdP the person chose, remembered in the browser as the last one used.
    ToIdp {
        /// The IdP's authorization URL.
        url: String,
        /// The IdP's id.
        idp: String,
    },
}

/// The outcome of a step, with the session cookie to set if a session started.
pub struct Outcome {
    /// Where the person goes.
    pub next: Next,
    /// A new hub session id to set in the browser.
    pub new_session: Option<String>,
}

impl From<Next> for Outcome {
    fn from(next: Next) -> Self {
        Self { next, new_session: None }
    }
}

/// The operator's line for `what` failing at `idp` (started at `started`): which IdP, which
/// step, its HTTP status and error, the outcome, how long it took (a timeout shows as the
/// configured limit). Never a token or a claim: the error's detail holds none.
pub fn log_upstream_failure(idp: &IdpId, error: &UpstreamError, what: &'static str, started: Instant) {
    tracing::warn!(
        idp = %idp,
        step = error.step.name(),
        status = error.status,
        error = %error.detail,
        outcome = error.kind(),
        duration_ms = started.elapsed().as_millis() as u64,
        "{what}"
    );
}
