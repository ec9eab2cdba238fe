//! Pure types and rules of Relais: the actors, the pivot identity, eIDAS levels, scopes and
//! claims, the pairwise `sub`, which identity providers a request may use, and the records of a
//! sign-in as it moves through the hub. No I/O, no async, no HTTP or SQL types.

#![warn(missing_docs)]

pub mod agent;
pub mod api_description;
pub mod catalogue;
pub mod civil_time;
pub mod clock;
pub mod data;
pub mod eidas;
pub mod flow;
pub mod ids;
pub mod pairwise;
pub mod pivot;
pub mod portal;
pub mod preferences;
pub mod profile;
pub mod providers;
pub mod registration;
pub mod scopes;
pub mod secret;
pub mod step;
pub mod trace;
pub mod values;
pub mod webhook;

pub use clock::{Clock, ManualClock, UnixTime};
pub use data::{DataProvider, DataScope, DataTransfer};
pub use eidas::EidasLevel;
pub use ids::{DpId, IdpId, SpId};
pub use pairwise::{PairwiseSecret, PairwiseSub, PersonKey, Sector};
pub use pivot::{PivotError, PivotIdentity};
pub use profile::{Identity, Principal, Profile, SubjectBasis, VerifiedClaims};
pub use providers::{IdentityProvider, IdpPolicy, ServiceProvider};
pub use scopes::{Claim, Scope, ScopeSet};
pub use secret::{Secret, SecretDigest};

/// Lower-case hexadecimal of `bytes` (the digests of `sub`s and traces).
pub(crate) fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2 + 2);
    for byte in bytes {
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}
