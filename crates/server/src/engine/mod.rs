//! The flow engine: each step of a sign-in as one function in a file of its own, from the
//! service provider's authorization request to the data provider's checktoken. Handlers call
//! these and turn their outcome into HTTP; the steps load records, call the pure transitions of
//! `relais_domain::flow` and the protocol rules of `relais_oidc`, store, and emit one traced
//! event each through the tracer. A step hands over to the next one only through that step's
//! entry point below, never through a sibling's helpers; what several steps share is in
//! [`support`].
//!
//! ```text
//! step  file            function                       input                        → output
//! 1     authorize.rs    authorize                      RawAuthorizationRequest      → Outcome (choice page | step 2 | step 4)
//! 1b    email.rs        first_page, route_email        agents: the e-mail (or login_hint) → step 2 with the IdP of its domain
//! 2     choose.rs       choice_page, choose            PendingAuthorization + IdpId → UpstreamLogin, redirect to the IdP
//!                       start_upstream                 (also from step 1 with idp_hint)
//!                       choice_without                 the choice again after an IdP failed (also from step 3)
//! 3     callback.rs     idp_callback                   UpstreamLogin + IdpCallback  → AuthenticatedSession → step 4
//! 3b    consent.rs      consent_page, decide_consent   PendingConsent + answer      → step 4 with the transfers given
//! 4     code.rs         complete_sign_in, issue_code   AuthenticatedSession         → PendingConsent | CodeGrant, redirect
//! 5     token.rs        token                          CodeGrant + RawTokenRequest  → AccessGrant, ID token
//! 5b    exchange.rs     exchange                       agents: person reference + agent's token → AccessGrant about the person
//!                       person_reference               (at step 4) the sealed reference a citizen service asked for
//! 6     userinfo.rs     userinfo                       AccessGrant                  → claims
//! —     checktoken.rs   checktoken                     AccessGrant + DataProvider   → IntrospectionResponse
//! —     logout.rs       logout, logout_callback        AuthenticatedSession         → ended, IdP logout, back to the SP
//! —     catalogue.rs    catalogue                      the registry                 → the public catalogue of data
//! —     dashboard/      start_sign_in, callback, view, set_blocked, sign_out (the person's own pages)
//!       support/        Browser, Next, Outcome · session (load, save, offered IdPs) · sp_redirect · tracer
//! ```

mod authorize;
mod callback;
pub mod catalogue;
pub mod checktoken;
mod choose;
mod code;
mod consent;
pub mod dashboard;
mod email;
mod exchange;
mod logout;
pub mod notifications;
pub mod portal;
pub mod support;
#[cfg(test)]
pub(crate) mod tests;
mod token;
mod userinfo;

pub use authorize::authorize;
pub use callback::{idp_callback, IdpCallback};
pub use checktoken::checktoken;
pub use choose::{choice_page, choose};
pub use code::CONSENT_PATH;
pub use consent::{consent_page, decide_consent, ConsentItem, ConsentProvider, ConsentView};
pub use email::route_email;
pub use logout::{logout, logout_callback, LogoutOutcome, LogoutParams};
pub use support::{Browser, Next, Outcome};
pub use token::token;
pub use userinfo::userinfo;
