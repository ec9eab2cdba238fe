//! The pairwise `sub`: different for each sector (SP), stable for one person, and the same
//! whichever identity provider the person used, because it is derived from the pivot identity
//! with a secret of the hub, never from the IdP's own subject.

use hmac::{Hmac, Mac};
use sha2::Sha256;

#[cfg(test)]
use crate::pivot::PivotIdentity;
use crate::profile::SubjectBasis;
use crate::secret::Secret;

/// The hub's secret for deriving pairwise subjects. Changing it changes every `sub`.
#[derive(Clone, Debug)]
pub struct PairwiseSecret(Secret);

impl PairwiseSecret {
    /// Wraps the configured secret.
    pub fn new(secret: Secret) -> Self {
        Self(secret)
    }

    /// The secret itself, for deriving the hub's other keys from it (the sealing key of
    /// person references); never to be logged.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

/// A sector: SPs of one sector see the same `sub` for a person (by default each SP is its own).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Sector(String);

impl Sector {
    /// A sector named by its identifier.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The sector of a data provider: the `sub` it gets at checktoken is pairwise for it, in a
    /// namespace (`relais:`) no service provider may register.
    pub fn of_data_provider(dp: &crate::ids::DpId) -> Self {
        Self(format!("{}dp:{dp}", Self::RESERVED_PREFIX))
    }

    /// The one sector of every agent service: an agent's `sub` is the same at each of them
    /// (agents answer for what they do, across tools).
    pub fn of_agents() -> Self {
        Self(format!("{}agents", Self::RESERVED_PREFIX))
    }

    /// The prefix of the hub's own sectors (the person key's, the data providers'): refused in
    /// registrations.
    pub const RESERVED_PREFIX: &'static str = "relais:";

    /// Whether the sector is one of the hub's own.
    pub fn is_reserved(&self) -> bool {
        self.0.starts_with(Self::RESERVED_PREFIX)
    }

    /// The sector as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A subject identifier pairwise for one sector.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct PairwiseSub(String);

impl PairwiseSub {
    /// Derives the `sub` of `subject` for `sector`: HMAC-SHA-256 keyed with the hub's secret
    /// over the sector and the subject's canonical basis (the canonical pivot identity for a
    /// citizen), hex-encoded, with a version suffix so the
    /// derivation can change later without ambiguity.
    pub fn derive(secret: &PairwiseSecret, sector: &Sector, subject: &impl SubjectBasis) -> Self {
        let mut mac = match Hmac::<Sha256>::new_from_slice(secret.0.expose().as_bytes()) {
            Ok(mac) => mac,
            // HMAC accepts keys of any length; this arm is unreachable.
            Err(_) => return Self(String::new()),
        };
        mac.update(b"relais-pairwise-sub-v1\x1f");
        mac.update(sector.0.as_bytes());
        mac.update(b"\x1e");
        mac.update(subject.subject_basis().as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut hex = crate::lower_hex(&digest);
        hex.push_str("v1");
        Self(hex)
    }

    /// Wraps a `sub` read back from a token.
    pub fn from_token(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The `sub` value.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A keyed hash of a person's pivot identity, the same at every SP and IdP: the key of their
/// traces and preferences, so the hub can show a person their history without keeping their
/// identity. It is the pairwise `sub` of a sector no SP can have.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct PersonKey(String);

impl PersonKey {
    /// The sector whose pairwise `sub` is the person key (the hub's own dashboard).
    pub const SECTOR: &'static str = "relais:personne";

    /// The key of `subject`.
    pub fn derive(secret: &PairwiseSecret, subject: &impl SubjectBasis) -> Self {
        Self(PairwiseSub::derive(secret, &Sector::new(Self::SECTOR), subject).0)
    }

    /// Wraps a key read back (from a trace, or the dashboard's `sub`).
    pub fn from_stored(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pivot(given: &str) -> PivotIdentity {
        let claims = [
            ("given_name", given),
            ("family_name", "Dubois"),
            ("birthdate", "1962-08-24"),
            ("gender", "female"),
            ("birthplace", "75107"),
            ("birthcountry", "99100"),
        ];
        PivotIdentity::from_claims(|n| claims.iter().find(|(k, _)| *k == n).map(|(_, v)| *v)).unwrap()
    }

    #[test]
    fn sub_differs_per_sector_and_is_stable_per_person() {
        let secret = PairwiseSecret::new(Secret::new("hub-secret"));
        let a = Sector::new("sp-a");
        let b = Sector::new("sp-b");
        let person = pivot("Angela Claire Louise");
        assert_eq!(
            PairwiseSub::derive(&secret, &a, &person),
            PairwiseSub::derive(&secret, &a, &pivot("ANGELA CLAIRE-LOUISE"))
        );
        assert_ne!(PairwiseSub::derive(&secret, &a, &person), PairwiseSub::derive(&secret, &b, &person));
        assert_ne!(PairwiseSub::derive(&secret, &a, &person), PairwiseSub::derive(&secret, &a, &pivot("Angela")));
        let other_secret = PairwiseSecret::new(Secret::new("another"));
        assert_ne!(PairwiseSub::derive(&secret, &a, &person), PairwiseSub::derive(&other_secret, &a, &person));
        assert_eq!(PairwiseSub::derive(&secret, &a, &person).as_str().len(), 66);
    }
}
