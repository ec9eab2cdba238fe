//! The Relais binary's library part: configuration loading and the assembly of a running hub,
//! shared by `relais serve`, `relais demo` and the end-to-end tests.

pub mod admin;
pub mod config;
pub mod demo;
pub mod launch;
pub mod traces;
