//! Trace checkpoints as signed JWTs (`typ: trace-checkpoint+jwt`): the hub's issuer, when, and
//! the chain's length and newest hash. Anyone can check one with the hub's JWKS; `relais traces
//! verify` checks the chain against one.

use relais_domain::clock::UnixTime;
use relais_domain::providers::IdTokenAlgorithm;
use relais_domain::trace::Checkpoint;
use serde::{Deserialize, Serialize};

use crate::jose::{HubKeys, JoseError};

/// The JWT's `typ`.
pub const CHECKPOINT_TYP: &str = "trace-checkpoint+jwt";

#[derive(Serialize, Deserialize)]
struct CheckpointClaims {
    iss: String,
    iat: u64,
    trace_count: u64,
    trace_head: String,
}

/// Signs `checkpoint` for the hub at `issuer`.
pub fn sign(keys: &HubKeys, issuer: &str, checkpoint: &Checkpoint) -> Result<String, JoseError> {
    let claims = CheckpointClaims {
        iss: issuer.to_owned(),
        iat: checkpoint.at.0,
        trace_count: checkpoint.count,
        trace_head: checkpoint.head.clone(),
    };
    keys.sign_typed(IdTokenAlgorithm::ES256, &claims, checkpoint.at.0, CHECKPOINT_TYP)
}

/// The checkpoint in `jwt`, if the hub at `issuer` signed it with one of `keys`.
pub fn verify(keys: &HubKeys, issuer: &str, jwt: &str) -> Result<Checkpoint, JoseError> {
    let header = jsonwebtoken::decode_header(jwt).map_err(|e| JoseError::InvalidToken(e.to_string()))?;
    if header.typ.as_deref() != Some(CHECKPOINT_TYP) {
        return Err(JoseError::InvalidToken(format!("typ is not {CHECKPOINT_TYP}")));
    }
    let claims: CheckpointClaims = keys.verify_own(jwt, issuer)?;
    Ok(Checkpoint { count: claims.trace_count, head: claims.trace_head, at: UnixTime(claims.iat) })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::jose::KeyMaterial;

    fn keys() -> HubKeys {
        HubKeys::from_material(vec![KeyMaterial::generate(IdTokenAlgorithm::ES256).unwrap()]).unwrap()
    }

    #[test]
    fn a_signed_checkpoint_verifies_with_the_hubs_keys_only() {
        let keys = keys();
        let checkpoint = Checkpoint { count: 42, head: "ab".repeat(32), at: UnixTime(1_800_000_000) };
        let jwt = sign(&keys, "https://hub.example", &checkpoint).unwrap();
        assert_eq!(verify(&keys, "https://hub.example", &jwt).unwrap(), checkpoint);
        assert!(verify(&keys, "https://other.example", &jwt).is_err(), "another issuer");
        assert!(verify(&self::keys(), "https://hub.example", &jwt).is_err(), "another hub's keys");
        let id_token =
            keys.sign(IdTokenAlgorithm::ES256, &serde_json::json!({"iss": "https://hub.example"}), 1).unwrap();
        assert!(verify(&keys, "https://hub.example", &id_token).is_err(), "not a checkpoint");
    }
}
