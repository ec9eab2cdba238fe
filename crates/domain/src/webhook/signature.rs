//! Standard Webhooks' symmetric signature: `v1,` and the base64 of HMAC-SHA256, keyed with the
//! bytes of the `whsec_` secret, over `{webhook-id}.{webhook-timestamp}.{body}`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

/// How far a `webhook-timestamp` may be from the receiver's clock (Standard Webhooks suggests
/// five minutes): an older message is a replay.
pub const SIGNATURE_TOLERANCE: u64 = 300;

const PREFIX: &str = "whsec_";

/// A subscription's signing secret: `whsec_` and the base64 of 24 to 64 random bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

impl WebhookSecret {
    /// Parses `whsec_<base64>`.
    pub fn parse(text: &str) -> Result<Self, SignatureError> {
        let encoded = text.trim().strip_prefix(PREFIX).ok_or(SignatureError::BadSecret)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| SignatureError::BadSecret)?;
        if !(24..=64).contains(&bytes.len()) {
            return Err(SignatureError::BadSecret);
        }
        Ok(Self(bytes))
    }

    /// A secret of these random bytes.
    pub fn from_random(bytes: [u8; 32]) -> Self {
        Self(bytes.to_vec())
    }

    /// `whsec_<base64>`, to show once to the administration and to keep sealed.
    pub fn expose(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.0))
    }

    fn mac(&self, id: &str, timestamp: u64, body: &[u8]) -> Hmac<Sha256> {
        // HMAC takes keys of any length: `new_from_slice` cannot fail here.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => unreachable_mac(),
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

#[allow(clippy::panic)]
fn unreachable_mac() -> Hmac<Sha256> {
    panic!("HMAC accepts keys of any length")
}

impl serde::Serialize for WebhookSecret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.expose())
    }
}

impl<'de> serde::Deserialize<'de> for WebhookSecret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Why a signature does not verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The secret is not `whsec_` and the base64 of 24 to 64 bytes.
    #[error("a webhook secret is `whsec_` followed by the base64 of 24 to 64 bytes")]
    BadSecret,
    /// The timestamp is not a number of seconds.
    #[error("webhook-timestamp is not a number of seconds")]
    BadTimestamp,
    /// The timestamp is more than [`SIGNATURE_TOLERANCE`] from now.
    #[error("webhook-timestamp is too far from now (a replay, or a clock off by more than 5 minutes)")]
    Expired,
    /// No `v1` signature of the header matches.
    #[error("no signature of webhook-signature matches")]
    Mismatch,
}

/// The `webhook-signature` header of message `id` sent at `timestamp` with `body`.
pub fn sign(secret: &WebhookSecret, id: &str, timestamp: u64, body: &[u8]) -> String {
    format!("v1,{}", STANDARD.encode(secret.mac(id, timestamp, body).finalize().into_bytes()))
}

/// Verifies a received message at `now`: the timestamp within the tolerance, and one of the
/// space-separated signatures of the header a `v1` signature that matches (compared in
/// constant time).
pub fn verify(
    secret: &WebhookSecret,
    id: &str,
    timestamp: &str,
    body: &[u8],
    signatures: &str,
    now: u64,
) -> Result<(), SignatureError> {
    let timestamp: u64 = timestamp.trim().parse().map_err(|_| SignatureError::BadTimestamp)?;
    if timestamp.abs_diff(now) > SIGNATURE_TOLERANCE {
        return Err(SignatureError::Expired);
    }
    let expected = secret.mac(id, timestamp, body).finalize().into_bytes();
    let matched = signatures
        .split_ascii_whitespace()
        .filter_map(|signature| signature.strip_prefix("v1,"))
        .filter_map(|encoded| STANDARD.decode(encoded).ok())
        .any(|presented| bool::from(presented.as_slice().ct_eq(&expected[..])));
    if matched {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}
