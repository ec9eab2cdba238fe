//! The steps of "tell us once": a change of address declared to the administrations chosen,
//! each notification's delivery, and the operator's moves on the notifications.

use super::{record, Step, StepEvent};
use crate::clock::UnixTime;
use crate::ids::SpId;
use crate::pairwise::{PairwiseSub, PersonKey};
use crate::trace::{TraceEvent, TraceKind};

impl StepEvent {
    /// The person declared a new address and chose `recipients` to tell: a record of the
    /// declaration, and one per notification to send, `queued`, naming the administration, the
    /// `sub` it knows the person by and the message's `webhook-id`.
    pub fn address_changed(at: UnixTime, person: &PersonKey, recipients: &[Recipient<'_>]) -> Self {
        let mut event =
            Self::new(Step::AddressChange, "queued").with_detail(format!("recipients={}", recipients.len()));
        let person = Some(person.as_str().to_owned());
        event.records.push(TraceEvent { person: person.clone(), ..record(at, TraceKind::AddressChange, "declared") });
        event.records.extend(recipients.iter().map(|to| TraceEvent {
            person: person.clone(),
            sub: Some(to.sub.as_str().to_owned()),
            sp: Some(to.sp.to_string()),
            reference: Some(to.message.to_owned()),
            ..record(at, TraceKind::Notification, "queued")
        }));
        event
    }

    /// The notification `message` to the administration `sp` was `delivered` or `given_up`
    /// (after its last attempt, or by the operator): a record of the person's chain when it was
    /// about a person.
    pub fn notification(at: UnixTime, person: Option<&str>, sp: &SpId, message: &str, outcome: &str) -> Self {
        let mut event = Self::new(Step::Notification, outcome).sp(sp).with_detail(message.to_owned());
        event.records = person
            .map(|person| TraceEvent {
                person: Some(person.to_owned()),
                sp: Some(sp.to_string()),
                reference: Some(message.to_owned()),
                ..record(at, TraceKind::Notification, outcome)
            })
            .into_iter()
            .collect();
        event
    }
}

impl StepEvent {
    /// `author` made `change` (`enabled`, `disabled`, `replayed`) to the notifications'
    /// subscription or message `what`: a record of the chain under no person's key.
    pub fn notifications_change(at: UnixTime, author: &str, what: &str, change: &str) -> Self {
        let mut event = Self::new(Step::RegistryChange, "ok").with_detail(format!("webhooks={change}"));
        event.records = vec![TraceEvent {
            author: Some(author.to_owned()),
            reference: Some(what.to_owned()),
            ..record(at, TraceKind::RegistryChange, change)
        }];
        event
    }
}

/// An administration told of a change: who, by which `sub`, in which message.
#[derive(Clone, Copy, Debug)]
pub struct Recipient<'a> {
    /// The administration (a service of the registry).
    pub sp: &'a SpId,
    /// The `sub` it knows the person by.
    pub sub: &'a PairwiseSub,
    /// The message's `webhook-id`.
    pub message: &'a str,
}
