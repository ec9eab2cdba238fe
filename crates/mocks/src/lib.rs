//! Mock actors of the Relais federation, served as real HTTP servers: an OpenID Connect
//! identity provider with fault injection ([`idp`]), data providers checking the SP's access
//! token with the hub's checktoken ([`dp`]), the demo service provider of a town hall
//! ([`sp`]) and an organisation registry telling the kind of an agent's organisation from its
//! SIRET ([`organisations`]), a mail relay whose mailbox tests and the demo read ([`mail`]), a
//! national address base ([`addresses`]) and administrations receiving the hub's signed
//! notifications ([`receiver`]). Used by `relais demo` and by the hub's end-to-end tests.

pub mod addresses;
pub mod dp;
pub mod idp;
pub mod mail;
pub mod organisations;
pub mod receiver;
pub mod sp;

mod web;
