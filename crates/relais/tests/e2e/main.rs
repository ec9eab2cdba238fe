//! End-to-end tests: the hub, mock IdPs and SPs as real HTTP servers on 127.0.0.1 with
//! ephemeral ports, the SP side played by the `openidconnect` crate, the person by a cookie-
//! keeping HTTP client that follows no redirect by itself. One test binary, linked once.
// Tests stand outside the hub: they may read the system clock and the OS generator.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod agents;
mod agents_person;
mod authlib;
mod catalogue;
mod data;
mod fanout;
mod harness;
mod keys;
mod negative;
mod nodes;
mod notifications;
mod operator;
mod pages;
mod portal;
mod portal_team;
mod servers;
mod sign_in;
mod upstream;
