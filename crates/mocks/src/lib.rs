//! Mock actors of the Relais federation, served as real HTTP servers: an OpenID Connect
//! identity provider with fault injection ([`idp`]), data providers checking the SP's access
//! token with the hub's checktoken ([`dp`]) and the demo service provider of a town hall
//! ([`sp`]). Used by `relais demo` and by the hub's end-to-end tests.

pub mod dp;
pub mod idp;
pub mod sp;

mod web;
