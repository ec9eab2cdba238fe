//! Notifications to administrations ("tell us once"): the national address base a new
//! address is checked against, and the sender of the transactional outbox.

pub mod address;
pub mod sender;

pub use sender::{deliver_due, Delivery};
