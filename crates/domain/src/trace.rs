//! Traces: the record of who connected where and which data went where, kept so the person can
//! see it, never holding the identity or the data. Records are chained by hashes, so an edited
//! or removed record shows.

use sha2::{Digest, Sha256};

use crate::clock::UnixTime;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceKind {
    /// A person signed in to an SP (a code was issued).
    SignIn,
    /// The person consented to a transfer.
    ConsentGiven,
    /// The person refused a transfer.
    ConsentRefused,
    /// A data provider asked checktoken about a token.
    Checktoken,
    /// The person signed out.
    Logout,
    /// The person changed which accounts may sign in as them.
    Preferences,
    /// An operator or a partner changed the registry (an actor added, replaced or removed, a
    /// secret renewed): no person concerned, the author named.
    RegistryChange,
    /// The person declared a change of address to administrations they chose (the address is
    /// never in the trace; `scopes` names the administrations informed).
    AddressChange,
    /// A notification to an administration about the person: queued, delivered or given up
    /// (`reference`: its `webhook-id`; `sp`: the administration).
    Notification,
}

impl TraceKind {
    /// The kind as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::ConsentGiven => "consent_given",
            Self::ConsentRefused => "consent_refused",
            Self::Checktoken => "checktoken",
            Self::Logout => "logout",
            Self::Preferences => "preferences",
            Self::RegistryChange => "registry_change",
            Self::AddressChange => "address_change",
            Self::Notification => "notification",
        }
    }

    /// Parses a stored kind.
    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::SignIn,
            Self::ConsentGiven,
            Self::ConsentRefused,
            Self::Checktoken,
            Self::Logout,
            Self::Preferences,
            Self::RegistryChange,
            Self::AddressChange,
            Self::Notification,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == value)
    }
}

/// One event to record.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TraceEvent {
    /// When.
    pub at: UnixTime,
    /// What.
    pub kind: TraceKind,
    /// The person's key ([`crate::PersonKey`]), so they can find it.
    pub person: Option<String>,
    /// The pairwise `sub` the SP (or DP) knows the person by.
    pub sub: Option<String>,
    /// The SP.
    pub sp: Option<String>,
    /// The IdP.
    pub idp: Option<String>,
    /// The DP.
    pub dp: Option<String>,
    /// The scopes concerned.
    pub scopes: Vec<String>,
    /// The outcome (`ok`, `active`, `inactive`, …).
    pub outcome: String,
    /// For an agent's access to a person's data: the SIRET of the agent's establishment (the
    /// organisation answers for its agents; no agent is named).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// For an agent's access to a person's data: the habilitation it was made under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub habilitation: Option<String>,
    /// For a change of the registry: who made it (an operator credential's name, or an agent
    /// of the partner portal by their agent `sub`). Never a person's identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// What the record is about when it is not a sign-in: a notification's `webhook-id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// A stored event: its place in the chain and its hash.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TraceRecord {
    /// Its position, from 1, without gaps.
    pub seq: u64,
    /// The event.
    pub event: TraceEvent,
    /// `SHA-256(previous hash, this record)`, hex.
    pub hash: String,
}

/// The hash before the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of record `seq` holding `event`, chained to `previous`. Every field is in it, in a
/// fixed order, with separators no field can contain unescaped (JSON strings).
pub fn chain_hash(previous: &str, seq: u64, event: &TraceEvent) -> String {
    let mut fields = serde_json::json!([
        seq,
        event.at.0,
        event.kind.as_str(),
        event.person,
        event.sub,
        event.sp,
        event.idp,
        event.dp,
        event.scopes,
        event.outcome
    ]);
    // The fields added later (agents' accesses, then the registry's changes) are hashed when
    // they hold a value, so that the records written before them keep their hashes; the
    // lengths (10, 12, 13, 14) tell the layouts apart.
    let by_organisation = event.organisation.is_some() || event.habilitation.is_some();
    let (author, reference) = (event.author.is_some(), event.reference.is_some());
    if let Some(list) = fields.as_array_mut() {
        if by_organisation || author || reference {
            list.push(serde_json::json!(event.organisation));
            list.push(serde_json::json!(event.habilitation));
        }
        if author || reference {
            list.push(serde_json::json!(event.author));
        }
        if reference {
            list.push(serde_json::json!(event.reference));
        }
    }
    let digest = Sha256::new()
        .chain_update(previous.as_bytes())
        .chain_update(b"\n")
        .chain_update(fields.to_string().as_bytes())
        .finalize();
    crate::lower_hex(&digest)
}

/// What a verification of the chain found wrong, by record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainProblem {
    /// Records are missing before this one.
    Missing {
        /// The record found.
        seq: u64,
        /// The record expected.
        expected: u64,
    },
    /// This record's hash does not match its content and its predecessor.
    Altered {
        /// The record.
        seq: u64,
    },
    /// The newest records are gone: a checkpoint counted more than the chain holds.
    Truncated {
        /// The records the checkpoint counted.
        counted: u64,
        /// The last record found.
        found: u64,
    },
    /// The record a checkpoint ended at is not the one it saw (the chain was rewritten).
    Diverged {
        /// The record.
        seq: u64,
    },
}

/// The chain's length and newest hash at a moment: signed and published by the hub (at an
/// endpoint and in its logs), so that removing the newest records, which leaves a shorter
/// chain that verifies, is found by comparing it with a checkpoint kept elsewhere.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    /// The number of records (the `seq` of the newest; 0 for an empty chain).
    pub count: u64,
    /// The hash of the newest record (the genesis hash for an empty chain).
    pub head: String,
    /// When it was made.
    pub at: UnixTime,
}

impl Checkpoint {
    /// The checkpoint of a chain whose newest record is `last`, at `at`.
    pub fn of(last: Option<&TraceRecord>, at: UnixTime) -> Self {
        match last {
            Some(record) => Self { count: record.seq, head: record.hash.clone(), at },
            None => Self { count: 0, head: GENESIS_HASH.to_owned(), at },
        }
    }

    /// Whether the chain still holds what this checkpoint saw, given the record at its
    /// `count` (`None`: none there) and the newest record now (`last`).
    pub fn check(&self, at_count: Option<&TraceRecord>, last: Option<&TraceRecord>) -> Result<(), ChainProblem> {
        if self.count == 0 {
            return Ok(());
        }
        match at_count {
            None => Err(ChainProblem::Truncated { counted: self.count, found: last.map_or(0, |r| r.seq) }),
            Some(record) if record.hash != self.head => Err(ChainProblem::Diverged { seq: self.count }),
            Some(_) => Ok(()),
        }
    }

    /// Checks a whole chain, read in order, against this checkpoint.
    pub fn check_chain(&self, records: &[TraceRecord]) -> Result<(), ChainProblem> {
        let at_count = records.iter().find(|r| r.seq == self.count);
        self.check(at_count, records.last())
    }
}

/// Verifies a chain read in order: every record follows the previous one and carries the hash
/// of its content. Each problem is reported once, where the chain breaks.
pub fn verify_chain(records: &[TraceRecord]) -> Vec<ChainProblem> {
    let mut problems = Vec::new();
    let mut previous_hash = GENESIS_HASH.to_owned();
    let mut expected = 1;
    for record in records {
        if record.seq != expected {
            problems.push(ChainProblem::Missing { seq: record.seq, expected });
        }
        if chain_hash(&previous_hash, record.seq, &record.event) != record.hash {
            problems.push(ChainProblem::Altered { seq: record.seq });
        }
        previous_hash = record.hash.clone();
        expected = record.seq + 1;
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(outcome: &str) -> TraceEvent {
        TraceEvent {
            at: UnixTime(1_700_000_000),
            kind: TraceKind::SignIn,
            person: Some("p".into()),
            sub: Some("s".into()),
            sp: Some("mairie".into()),
            idp: Some("impots".into()),
            dp: None,
            scopes: vec!["openid".into()],
            outcome: outcome.into(),
            organisation: None,
            habilitation: None,
            author: None,
            reference: None,
        }
    }

    fn chain(count: u64) -> Vec<TraceRecord> {
        let mut previous = GENESIS_HASH.to_owned();
        (1..=count)
            .map(|seq| {
                let event = event("ok");
                let hash = chain_hash(&previous, seq, &event);
                previous = hash.clone();
                TraceRecord { seq, event, hash }
            })
            .collect()
    }

    #[test]
    fn the_author_is_hashed_and_older_layouts_keep_their_hashes() {
        let plain = event("ok");
        // The hash of a record without the later fields, as written before they existed.
        let fields =
            serde_json::json!([1, 1_700_000_000u64, "sign_in", "p", "s", "mairie", "impots", null, ["openid"], "ok"]);
        let before = Sha256::new()
            .chain_update(GENESIS_HASH.as_bytes())
            .chain_update(b"\n")
            .chain_update(fields.to_string().as_bytes())
            .finalize();
        assert_eq!(chain_hash(GENESIS_HASH, 1, &plain), crate::lower_hex(&before));
        let by = |author: &str| TraceEvent { author: Some(author.into()), ..event("ok") };
        let (ops, other) = (chain_hash(GENESIS_HASH, 1, &by("ops")), chain_hash(GENESIS_HASH, 1, &by("other")));
        assert_ne!(ops, other);
        assert_ne!(ops, chain_hash(GENESIS_HASH, 1, &plain));
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert!(verify_chain(&chain(5)).is_empty());
    }

    #[test]
    fn an_edited_record_is_found() {
        let mut records = chain(5);
        records[2].event.sp = Some("another".into());
        assert_eq!(verify_chain(&records), [ChainProblem::Altered { seq: 3 }]);
    }

    #[test]
    fn a_removed_record_is_found() {
        let mut records = chain(5);
        records.remove(1);
        assert_eq!(
            verify_chain(&records),
            [ChainProblem::Missing { seq: 3, expected: 2 }, ChainProblem::Altered { seq: 3 }]
        );
    }

    #[test]
    fn a_rehashed_edit_breaks_the_next_link() {
        let mut records = chain(3);
        records[1].event.outcome = "forged".into();
        records[1].hash = chain_hash(&records[0].hash, 2, &records[1].event);
        assert_eq!(verify_chain(&records), [ChainProblem::Altered { seq: 3 }]);
    }

    #[test]
    fn removing_the_newest_records_verifies_alone_but_not_against_a_checkpoint() {
        let records = chain(6);
        let checkpoint = Checkpoint::of(records.last(), UnixTime(1));
        let mut truncated = records.clone();
        truncated.truncate(3);
        assert!(verify_chain(&truncated).is_empty(), "a shorter chain is a valid chain");
        assert_eq!(checkpoint.check_chain(&truncated), Err(ChainProblem::Truncated { counted: 6, found: 3 }));
        assert_eq!(checkpoint.check_chain(&records), Ok(()));
        let mut longer = records.clone();
        longer.extend(chain(8).into_iter().skip(6));
        assert_eq!(checkpoint.check_chain(&longer), Ok(()), "records added since are fine");
    }

    #[test]
    fn a_chain_rebuilt_past_a_checkpoint_diverges_from_it() {
        let records = chain(4);
        let checkpoint = Checkpoint::of(records.last(), UnixTime(1));
        let mut rebuilt = records[..2].to_vec();
        let mut previous = rebuilt[1].hash.clone();
        for seq in 3..=5 {
            let event = event("replayed");
            let hash = chain_hash(&previous, seq, &event);
            previous = hash.clone();
            rebuilt.push(TraceRecord { seq, event, hash });
        }
        assert!(verify_chain(&rebuilt).is_empty());
        assert_eq!(checkpoint.check_chain(&rebuilt), Err(ChainProblem::Diverged { seq: 4 }));
        assert_eq!(Checkpoint::of(None, UnixTime(1)).check_chain(&[]), Ok(()));
    }

    #[test]
    fn an_agents_access_is_in_the_hash_and_older_records_keep_theirs() {
        let plain = event("active");
        let mut agent = plain.clone();
        agent.organisation = Some("21750001600019".into());
        agent.habilitation = Some("hab-1".into());
        assert_ne!(chain_hash(GENESIS_HASH, 1, &plain), chain_hash(GENESIS_HASH, 1, &agent));
        let mut other = agent.clone();
        other.habilitation = Some("hab-2".into());
        assert_ne!(chain_hash(GENESIS_HASH, 1, &agent), chain_hash(GENESIS_HASH, 1, &other));
        // A record without them hashes its ten fields only, as before they existed.
        let fields =
            serde_json::json!([1, plain.at.0, "sign_in", "p", "s", "mairie", "impots", null, ["openid"], "active"]);
        let expected = crate::lower_hex(
            &Sha256::new()
                .chain_update(GENESIS_HASH.as_bytes())
                .chain_update(b"\n")
                .chain_update(fields.to_string().as_bytes())
                .finalize(),
        );
        assert_eq!(chain_hash(GENESIS_HASH, 1, &plain), expected);
    }
}
